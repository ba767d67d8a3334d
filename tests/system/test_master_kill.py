"""SIGKILL of the Locust master while faults are applied to a long-lived stack (`stack up`), at five seeded
moments: whatever was applied at that moment, `locust-chaos heal` leaves nothing of it — no paused process,
no toxic, no disabled proxy link, every killed component running again, and the system answering — and writes
the run's interrupted verdict. Under `locust-chaos run` the supervisor does all that itself and exits 3."""
import os
import random
import re
import signal
import subprocess
import threading
import time
from xml.etree import ElementTree

import pytest
import requests

from chaos_hooks.common import procs
from chaos_hooks.control.journal import Journal
from chaos_hooks.spec.profile import default_profile_path, load_profile
from chaos_hooks.targets.ledger import Ledger
from helpers import BIN, CLI, ROOT, load_verdict, run_cli, wait_for

pytestmark = pytest.mark.slow
ATTEMPTS = 5
FAULTS = ["kill-worker", "pause-api", "slow-db", "cut-cache", "freeze-db"]
SCENARIO = """\
name: kill-the-master
system: shop
load: {users: 10, spawn_rate: 10, run_time: 40s, user_classes: [OrderUser], wait: [0.2, 0.5]}
values: {product: "m-{run_id}", stock: 1000}
faults:
  - {name: kill-worker, action: process.kill, target: worker, at: 0.5s, heal_after: 30s}
  - {name: pause-api, action: process.pause, target: api, at: 1.2s, heal_after: 30s}
  - {name: slow-db, action: network.latency, target: db, latency: 300, jitter: 50, at: 1.6s, heal_after: 30s}
  - {name: cut-cache, action: network.down, target: cache, at: 2s, heal_after: 30s}
  - {name: freeze-db, action: datastore.outage, target: db, mode: pause, at: 2.4s, heal_after: 30s}
invariants: {no_data_loss: {}}
"""


def process_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]  # R, S, D, T (stopped), Z ...


def nothing_applied(profile) -> None:
    for name, component in profile.components.items():
        pid = component.running_pid()
        assert pid is not None, f"{name} is not running"
        assert process_state(pid) not in ("T", "t"), f"{name} (pid {pid}) is left stopped"
    proxies = requests.get(f"{profile.toxiproxy_url}/proxies", timeout=5).json()
    assert set(proxies) == {"cache", "db"}
    for name, proxy in proxies.items():
        assert proxy["enabled"] is True, f"link {name} left disabled"
        assert proxy["toxics"] == [], f"link {name} left with toxics {proxy['toxics']}"


def test_heal_after_the_master_is_killed_mid_fault_leaves_nothing_applied(tmp_path, home):
    code, out = run_cli(["stack", "up"], home)
    assert code == 0, out
    scenario = tmp_path / "kill-the-master.yaml"
    scenario.write_text(SCENARIO)
    rnd = random.Random(20261123)
    applied_at_kill = []
    try:
        profile = load_profile(default_profile_path())
        for attempt in range(ATTEMPTS):
            log = tmp_path / f"master-{attempt}.log"
            with open(log, "w") as out:
                master = subprocess.Popen([os.path.join(BIN, "locust"), "-f", "locustfiles/shop.py", "--headless",
                                           "--chaos-scenario-file", str(scenario), "--chaos-report-dir",
                                           str(tmp_path / f"report-{attempt}")], cwd=ROOT, stdout=out,
                                          stderr=subprocess.STDOUT, env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)))
            wait_for(lambda: "fault kill-worker injected" in log.read_text(), 60, "the first fault to land")
            if attempt == ATTEMPTS - 1:  # the last with all five applied; the first with one (0.7 s before the next)
                wait_for(lambda: "fault freeze-db injected" in log.read_text(), 10, "the last fault to land")
            elif attempt > 0:  # the others at seeded moments from the first injection to after the last
                moment = time.monotonic() + rnd.uniform(0.0, 2.2)
                wait_for(lambda: time.monotonic() >= moment, 5, "the chosen moment")
            master.send_signal(signal.SIGKILL)
            master.wait(timeout=10)
            applied = re.findall(r"fault (\S+) injected", log.read_text())
            applied_at_kill.append(applied)
            assert Journal(os.path.join(home, "journal.jsonl")).pending(), "the kill left no fault in the journal"

            code, out = run_cli(["heal"], home)
            assert code == 0 and "Traceback" not in out, out
            assert all(re.search(rf"{name} \(\S+\): healed", out) for name in applied), out
            # Nobody saw the master die: `heal` finds its run open in the journal and writes its verdict.
            assert "wrote an interrupted verdict" in out, out
            verdict = load_verdict(tmp_path / f"report-{attempt}")
            assert verdict["status"] == "interrupted" and not verdict["passed"]
            assert verdict["interrupted"]["why"].startswith(f"master lost (pid {master.pid}) before its verdict")
            assert set(applied) <= {f["name"] for f in verdict["faults"] if f["healed_at"] is not None}
            assert Journal(os.path.join(home, "journal.jsonl")).pending() == []
            nothing_applied(profile)
            wait_for(lambda: requests.get(f"{profile.host}/ready", timeout=2).status_code == 200, 15,
                     f"the shop to answer ready again (attempt {attempt}, applied: {applied})")
    finally:
        code, out = run_cli(["stack", "down"], home)
    assert code == 0, out
    assert applied_at_kill[0] == FAULTS[:1] and applied_at_kill[-1] == FAULTS, applied_at_kill
    assert len({len(a) for a in applied_at_kill}) >= 3, applied_at_kill  # the seeded moments fall apart


def test_run_heals_and_reports_a_master_killed_mid_fault(system_stack, tmp_path):
    """`locust-chaos run` supervises its master: SIGKILLed while a component is killed and another paused, the
    run ends interrupted (exit 3, the reason in verdict.json and junit.xml), its Locust worker is stopped and
    both faults are healed — checked from outside, by pid, before the stack goes."""
    stack = system_stack("shop")
    killed, paused = stack.components["worker"].running_pid(), stack.components["api"].running_pid()
    scenario = tmp_path / "lose-the-master.yaml"
    scenario.write_text("""\
name: lose-the-master
system: shop
load: {users: 4, spawn_rate: 4, run_time: 40s, user_classes: [OrderUser], wait: [0.2, 0.5]}
values: {product: "l-{run_id}", stock: 1000}
faults:
  - {name: kill-worker, action: process.kill, target: worker, at: 0.5s, heal_after: 30s}
  - {name: pause-api, action: process.pause, target: api, at: 1s, heal_after: 30s}
invariants: {no_data_loss: {}}
""")
    report = tmp_path / "report"
    proc = subprocess.Popen([CLI, "run", str(scenario), "--target", stack.profile_path, "--report-dir", str(report),
                             "--workers", "1", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("fault pause-api injected" in line for line in lines), 60, "both faults to land")
        locust = {e["component"]: e for e in Ledger(str(report / "locust-processes.jsonl")).entries()}
        master, worker = locust["locust-master"], locust["locust-worker-0"]
        assert procs.is_stopped(paused)
        os.kill(master["pid"], signal.SIGKILL)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    out = "".join(lines)
    assert code == 3 and "Traceback" not in out, out[-3000:]
    assert "INTERRUPTED" in out and "master lost" in out
    verdict = load_verdict(report)
    assert verdict["status"] == "interrupted" and verdict["overall"] == "unknown" and not verdict["passed"]
    assert verdict["interrupted"]["why"].startswith(f"master lost (pid {master['pid']}, SIGKILL) at ")
    assert verdict["invariants"][0]["status"] == "unknown"
    assert [(f["name"], f["injected_at"] is not None, f["healed_at"] is not None) for f in verdict["faults"]] == \
        [("kill-worker", True, True), ("pause-api", True, True)]
    case = ElementTree.parse(report / "junit.xml").find(".//testcase[@name='interrupted']")
    assert case.find("error").get("type") == "interrupted" and "master lost" in case.find("error").text
    # Nothing left behind, by pid: no Locust process, no fault.
    assert not procs.same_process(master["pid"], master["started"])
    assert not procs.same_process(worker["pid"], worker["started"])
    assert Journal(os.path.join(os.environ["LOCUST_CHAOS_HOME"], "journal.jsonl")).pending() == []
    restarted = stack.components["worker"].running_pid()
    assert restarted not in (None, killed) and procs.is_running(restarted)
    assert procs.is_running(paused) and not procs.is_stopped(paused)
    assert requests.get(f"{load_profile(stack.profile_path).host}/ready", timeout=5).status_code == 200


MARKER_PLUGIN = '''"""A user's own fault family, loaded with --chaos-plugin: while applied, a marker file exists."""
import os

from chaos_hooks.faults import Fault, register


@register
class MarkerHold(Fault):
    action = "marker.hold"
    params = {"path": "str"}

    def inject(self):
        open(self.spec.params["path"], "w").close()
        return {}

    def heal(self):
        self.heal_from_record(self.heal_record())

    def heal_record(self):
        return {"path": self.spec.params["path"]}

    @classmethod
    def heal_from_record(cls, record):
        if os.path.exists(record["path"]):
            os.remove(record["path"])
'''


def test_a_plugin_fault_left_by_a_killed_master_is_healed_from_the_journal(tmp_path, home):
    """The journal records the fault's module (and its file), so `heal` — started elsewhere, without
    --chaos-plugin — imports it and heals it like a built-in fault."""
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "marker_fault.py").write_text(MARKER_PLUGIN)
    marker = tmp_path / "marker"
    scenario = tmp_path / "plugin-fault.yaml"
    scenario.write_text(f"""\
name: plugin-fault
system: shop
load: {{users: 2, spawn_rate: 2, run_time: 40s, user_classes: [OrderUser], wait: [0.2, 0.5]}}
values: {{product: "m-{{run_id}}", stock: 1000}}
faults:
  - {{name: hold-marker, action: marker.hold, target: anything, path: "{marker}", at: 0.5s, heal_after: 30s}}
invariants: {{no_data_loss: {{}}}}
""")
    code, out = run_cli(["stack", "up"], home)
    assert code == 0, out
    try:
        log = tmp_path / "master.log"
        env = dict(os.environ, LOCUST_CHAOS_HOME=str(home), PYTHONPATH=str(plugin_dir))
        with open(log, "w") as out:
            master = subprocess.Popen([os.path.join(BIN, "locust"), "-f", "locustfiles/shop.py", "--headless",
                                       "--chaos-plugin", "marker_fault", "--chaos-scenario-file", str(scenario),
                                       "--chaos-report-dir", str(tmp_path / "report")], cwd=ROOT, stdout=out,
                                      stderr=subprocess.STDOUT, env=env)
        wait_for(lambda: "fault hold-marker injected" in log.read_text(), 60, "the plugin fault to land")
        master.send_signal(signal.SIGKILL)
        master.wait(timeout=10)
        assert marker.exists()
        pending = Journal(os.path.join(home, "journal.jsonl")).pending()
        assert [(e["action"], e["module"]) for e in pending] == [("marker.hold", "marker_fault")]

        code, out = run_cli(["heal"], home, cwd=str(tmp_path))  # no PYTHONPATH, no --chaos-plugin
        assert code == 0 and "hold-marker (marker.hold): healed" in out, out
        assert not marker.exists()
        assert Journal(os.path.join(home, "journal.jsonl")).pending() == []
    finally:
        code, out = run_cli(["stack", "down"], home)
    assert code == 0, out
