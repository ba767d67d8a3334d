"""Plain Locust with its web UI against a running stack: the scenario is a dropdown, a run started and
stopped from the UI gets its verdict, and a fault the run never reached is reported, not dropped."""
import json
import os
import re
import subprocess

import pytest
import requests

from chaos_hooks.common.ports import free_port

from chaos_hooks.common.procs import stop_pid
from chaos_hooks.spec.scenario import preset_names
from helpers import BIN, ROOT, run_cli, wait_for

LATE_FAULT = """\
name: late-fault
system: shop
load: {users: 5, spawn_rate: 5}
values: {product: "late-{run_id}", stock: 10}
faults:
  - {name: kill-worker-late, action: process.kill, target: worker, at: 600s, heal_after: 5s}
invariants:
  no_data_loss: {}
"""


@pytest.fixture
def web_ui(tmp_path, home):
    assert run_cli(["stack", "up"], home)[0] == 0
    started = []

    def start(*extra):
        port = free_port()
        env = dict(os.environ, LOCUST_CHAOS_HOME=str(home))
        proc = subprocess.Popen([os.path.join(BIN, "locust"), "-f", "locustfiles/shop.py", "--web-host", "127.0.0.1",
                                 "--web-port", str(port), "--chaos-report-dir", str(tmp_path / "report"), *extra],
                                cwd=ROOT, env=env, stdout=open(tmp_path / "locust.log", "w"), stderr=subprocess.STDOUT)
        started.append(proc)
        ui = f"http://127.0.0.1:{port}"

        def page():
            try:
                return requests.get(ui, timeout=2).text
            except requests.ConnectionError:
                return ""
        return ui, wait_for(page, 30, "the web UI")
    yield start, tmp_path / "report" / "verdict.json"
    for proc in started:
        stop_pid(proc.pid)
    run_cli(["stack", "down"], home)


def run_from_ui(ui: str, verdict_file, **form) -> dict:
    assert requests.post(f"{ui}/swarm", data={"user_count": 20, "spawn_rate": 20, **form}, timeout=5).json()["success"]

    def requests_made():
        return sum(s["num_requests"] for s in requests.get(f"{ui}/stats/requests", timeout=2).json()["stats"])
    wait_for(lambda: requests_made() > 50, 30, "orders flowing")
    assert requests.post(f"{ui}/stop", timeout=30).json()["success"] is True
    wait_for(verdict_file.exists, 60, "the verdict of the UI run")
    return json.loads(verdict_file.read_text())


def test_web_ui_offers_presets_and_a_ui_run_gets_a_verdict(web_ui):
    start, verdict_file = web_ui
    ui, html = start()
    args = json.loads(re.search(r"templateArgs = (\{.*?\})\s*</script>", html, re.S).group(1))
    assert args["extra_options"]["scenario"]["choices"] == preset_names()
    verdict = run_from_ui(ui, verdict_file, scenario="flash-sale")
    assert verdict["scenario"] == "flash-sale" and verdict["passed"] is True and verdict["status"] == "valid"
    assert verdict["history"]["acked"] > 0 and verdict["history"]["lost"] == 0


def test_a_fault_the_run_never_reached_fails_the_verdict(web_ui, tmp_path):
    start, verdict_file = web_ui
    scenario = tmp_path / "late.yaml"
    scenario.write_text(LATE_FAULT)
    ui, _ = start("--chaos-scenario-file", str(scenario))
    verdict = run_from_ui(ui, verdict_file)
    assert verdict["scenario"] == "late-fault" and verdict["passed"] is False
    assert verdict["harness_problems"] == [
        "fault kill-worker-late never fired: the load ended before its start at +600s"]
    assert verdict["faults"][0]["injected_at"] is None
