"""A fault that is injected is always healed: on SIGTERM and Ctrl-C mid-fault, and after a crash by
`locust-chaos heal`; and nothing of a stack outlives the run that owns it."""
import json
import os
import re
import signal
import subprocess

from chaos_hooks.faults.process import ProcessKill
from chaos_hooks.control.journal import Journal
from chaos_hooks.targets.ledger import Ledger
from chaos_hooks.spec.profile import default_profile_path, load_profile
from chaos_hooks.spec.scenario import FaultSpec
from helpers import BIN, ROOT, SHOP_CRASH, ledger_alive, run_cli, wait_for

LOCUSTFILE = os.path.join(ROOT, "locustfiles", "shop.py")


def locust(args, home, **kw):
    env = dict(os.environ, LOCUST_CHAOS_HOME=str(home))
    return subprocess.Popen([os.path.join(BIN, "locust"), "-f", LOCUSTFILE, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def test_sigterm_mid_fault_heals_and_plain_locust_drives_a_stack(home):
    code, out = run_cli(["stack", "up"], home)
    assert code == 0, out
    try:
        target = load_profile(default_profile_path())
        worker = target.components["worker"]
        first_pid = worker.running_pid()
        journal = Journal(os.path.join(home, "journal.jsonl"))
        # No -u/-r/-t: the scenario's own load settings apply.
        proc = locust(["--headless", "--chaos-scenario-file", SHOP_CRASH], home)
        # The kill lands at +1 s and its heal 5 s later: SIGTERM in between, with the fault applied.
        wait_for(lambda: journal.pending() and not worker.running_pid(), 30, "the worker kill to land")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 3, output[-3000:]
        assert "run interrupted before its verdict; every fault healed" in output
        assert "Run time limit set to 7 seconds" in output and '"OrderUser": 50' in output
        assert "Traceback" not in output
        assert journal.pending() == []
        restarted = worker.running_pid()
        assert restarted and restarted != first_pid
    finally:
        code, out_down = run_cli(["stack", "down"], home)
    assert code == 0 and "worker" in out_down
    assert ledger_alive(target.ledger) == []


def test_heal_command_restarts_what_a_crashed_run_left_killed(home, system_stack):
    stack = system_stack("shop")
    target = load_profile(stack.profile_path)
    worker = target.components["worker"]
    journal = Journal(os.path.join(home, "journal.jsonl"))
    fault = ProcessKill(FaultSpec("kill-worker", "process.kill", "worker", 0, None, {}), target)
    entry = journal.intent(fault.action, "kill-worker", target.source, fault.heal_record())
    fault.inject()  # ...and the run crashes here, before any heal
    assert worker.running_pid() is None
    # The intent names this (live) process as its owner: heal leaves a live run's faults alone...
    code, out = run_cli(["heal"], home)
    assert code == 0 and "left alone, its run" in out and worker.running_pid() is None
    # ...and heals them once their run is gone.
    lines = open(journal.path).read().splitlines()
    orphan = json.loads(lines[-1])
    orphan.update(owner_pid=2 ** 22 + 7, owner_started=1)
    open(journal.path, "w").write("\n".join(lines[:-1] + [json.dumps(orphan)]) + "\n")
    code, out = run_cli(["heal"], home)
    assert code == 0 and "kill-worker (process.kill): healed" in out, out
    assert worker.running_pid() is not None and entry not in [e["id"] for e in journal.pending()]
    code, out = run_cli(["heal"], home)  # idempotent
    assert code == 0 and "nothing to heal" in out


def test_heal_closes_faults_whose_stack_is_gone(tmp_path, home):
    journal = Journal(os.path.join(home, "journal.jsonl"))
    journal.intent("process.kill", "kill-worker", str(tmp_path / "gone" / "target.json"),
                   {"component": {"name": "worker", "pidfile": "/nonexistent", "start": ["false"]}})
    code, out = run_cli(["heal"], home)
    assert code == 0 and "is gone, nothing to heal" in out
    assert journal.pending() == []


def test_unreachable_target_exits_3_with_one_line(tmp_path, home):
    profile = tmp_path / "target.json"
    profile.write_text(json.dumps({"host": "http://127.0.0.1:9", "ready": {"http": "GET /ready"},
                                   "datastores": {"db": "postgresql://u@127.0.0.1:9/x",
                                                  "cache": "redis://127.0.0.1:9/0"},
                                   "components": {"worker": {"pidfile": "/nonexistent"}},
                                   "reads": {"persisted": {"from": "db", "sql": "SELECT 1 AS key"},
                                             "stock_left": {"from": "cache", "redis": ["GET", "x"]},
                                             "backlog": {"from": "cache", "stream": "s", "group": "g"}}}))
    proc = locust(["--headless", "--scenario", "flash-sale", "-t", "5s", "--chaos-target", str(profile)], home)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, output
    assert f"locust-chaos: error: {profile}: ready check GET http://127.0.0.1:9/ready:" in output
    assert "Traceback" not in output


def test_missing_target_profile_says_how_to_get_one(home):
    proc = locust(["--headless", "--scenario", "flash-sale", "-t", "5s"], home)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, output
    assert "target profile not found (write one — `locust-chaos init` — or start the embedded stack" in output


def test_ctrl_c_on_run_heals_and_leaves_no_process(tmp_path, home):
    """Ctrl-C while the worker is killed: the master heals on its way out and the stack is torn down."""
    log = tmp_path / "run.log"
    env = dict(os.environ, LOCUST_CHAOS_HOME=str(home))
    with open(log, "w") as out:
        proc = subprocess.Popen([os.path.join(BIN, "locust-chaos"), "run", SHOP_CRASH,
                                 "--report-dir", str(tmp_path / "report")], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: "fault kill-worker injected" in log.read_text(), 60, "the worker kill to land")
        stack_dir = re.search(r"servers \(.*\) in (\S+)", log.read_text()).group(1)
        recorded = Ledger(os.path.join(stack_dir, "ledger.jsonl")).entries()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=90) == 3
    output = log.read_text()
    assert "run interrupted before its verdict; every fault healed" in output
    assert "Traceback" not in output
    assert Journal(os.path.join(home, "journal.jsonl")).pending() == []
    assert len(recorded) == 5 and ledger_alive_of(recorded) == []
    assert not os.path.exists(stack_dir)
    verdict = json.loads((tmp_path / "report" / "verdict.json").read_text())
    assert verdict["partial"] is True and verdict["status"] == "interrupted" and verdict["overall"] == "unknown"
    assert (tmp_path / "report" / "history.jsonl").exists()


def ledger_alive_of(entries) -> list[dict]:
    from chaos_hooks.common.procs import same_process
    return [e for e in entries if same_process(e["pid"], e.get("started"))]
