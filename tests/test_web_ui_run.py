"""Plain Locust with its web UI against a running stack: the scenario is a dropdown, and a run started
and stopped from the UI gets its verdict."""
import json
import os
import re
import subprocess

import requests

from chaos_hooks.procs import free_port, stop_pid
from helpers import BIN, ROOT, run_cli, wait_for


def test_web_ui_offers_presets_and_a_ui_run_gets_a_verdict(tmp_path, home):
    assert run_cli(["stack", "up"], home)[0] == 0
    port = free_port()
    report = tmp_path / "report"
    env = dict(os.environ, LOCUST_CHAOS_HOME=str(home))
    proc = subprocess.Popen([os.path.join(BIN, "locust"), "-f", "locustfiles", "--web-host", "127.0.0.1",
                             "--web-port", str(port), "--chaos-report-dir", str(report)],
                            cwd=ROOT, env=env, stdout=open(tmp_path / "locust.log", "w"), stderr=subprocess.STDOUT)
    ui = f"http://127.0.0.1:{port}"
    try:
        def page():
            try:
                return requests.get(ui, timeout=2).text
            except requests.ConnectionError:
                return ""
        html = wait_for(page, 30, "the web UI")
        args = json.loads(re.search(r"templateArgs = (\{.*?\})\s*</script>", html, re.S).group(1))
        scenario = args["extra_options"]["scenario"]
        assert scenario["choices"] == ["flash-sale", "worker-crash"]
        resp = requests.post(f"{ui}/swarm", data={"user_count": 20, "spawn_rate": 20, "scenario": "flash-sale"},
                             timeout=5)
        assert resp.json()["success"] is True
        wait_for(lambda: requests.get(f"{ui}/stats/requests", timeout=2).json()["total_rps"] > 0 and
                 sum(s["num_requests"] for s in requests.get(f"{ui}/stats/requests", timeout=2).json()["stats"]) > 50,
                 30, "orders flowing")
        assert requests.post(f"{ui}/stop", timeout=30).json()["success"] is True
        verdict_file = report / "verdict.json"
        wait_for(verdict_file.exists, 60, "the verdict of the UI run")
        verdict = json.loads(verdict_file.read_text())
        assert verdict["scenario"] == "flash-sale" and verdict["passed"] is True
        assert verdict["history"]["acked"] > 0 and verdict["history"]["lost"] == 0
    finally:
        stop_pid(proc.pid)
        run_cli(["stack", "down"], home)
