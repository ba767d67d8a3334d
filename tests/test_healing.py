"""A fault that is injected is always healed: on SIGTERM mid-fault, and after a crash by `locust-chaos heal`."""
import json
import os
import signal
import subprocess

from chaos_hooks.journal import Journal
from chaos_hooks.targets import default_target_path, load_target
from helpers import BIN, ROOT, run_cli, stack_leftovers, wait_for


def locust(args, home, **kw):
    env = dict(os.environ, LOCUST_CHAOS_HOME=str(home))
    return subprocess.Popen([os.path.join(BIN, "locust"), "-f", "locustfiles", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def test_sigterm_mid_fault_heals_and_plain_locust_drives_a_stack(home):
    code, out = run_cli(["stack", "up"], home)
    assert code == 0, out
    try:
        target = load_target(default_target_path())
        worker = target.components["worker"]
        first_pid = worker.running_pid()
        journal = Journal(os.path.join(home, "journal.jsonl"))
        # No -u/-r/-t: the scenario's own load settings apply.
        proc = locust(["--headless", "--scenario", "worker-crash"], home)
        # The kill lands at +5 s and its heal is 20 s later: SIGTERM in between, with the fault applied.
        wait_for(lambda: journal.pending() and not worker.running_pid(), 30, "the worker kill to land")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 3, output[-3000:]
        assert "run interrupted before its verdict; every fault healed" in output
        assert "Run time limit set to 60 seconds" in output and '"OrderUser": 50' in output
        assert journal.pending() == []
        restarted = worker.running_pid()
        assert restarted and restarted != first_pid
    finally:
        code, out_down = run_cli(["stack", "down"], home)
    assert code == 0 and "worker" in out_down
    assert stack_leftovers(out) == []


def test_heal_command_restarts_what_a_crashed_run_left_killed(home, stack):
    worker = stack.target.components["worker"]
    journal = Journal(os.path.join(home, "journal.jsonl"))
    from chaos_hooks.faults.process import ProcessKill
    from chaos_hooks.scenario import FaultSpec
    fault = ProcessKill(FaultSpec("kill-worker", "process.kill", "worker", 0, None, {}), stack.target)
    journal.intent(fault.action, "kill-worker", stack.target.source, fault.heal_record())
    fault.inject()  # ...and the run crashes here, before any heal
    assert worker.running_pid() is None
    code, out = run_cli(["heal"], home)
    assert code == 0 and "kill-worker (process.kill): healed" in out
    assert worker.running_pid() is not None
    assert journal.pending() == []
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
    profile.write_text(json.dumps({"host": "http://127.0.0.1:9", "redis_url": "redis://127.0.0.1:9/0",
                                   "database_url": "postgresql://127.0.0.1:9/x", "components": {}}))
    proc = locust(["--headless", "--scenario", "flash-sale", "-t", "5s", "--chaos-target", str(profile)], home)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, output
    assert "locust-chaos: error: http://127.0.0.1:9/ready:" in output and "Traceback" not in output


def test_missing_target_profile_says_how_to_get_one(home):
    proc = locust(["--headless", "--scenario", "flash-sale", "-t", "5s"], home)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, output
    assert "target profile not found (start one with `locust-chaos stack up`)" in output


def test_ctrl_c_on_run_heals_and_leaves_no_process(tmp_path, home):
    """Ctrl-C while the worker is killed: the master heals on its way out and the stack is torn down."""
    log = tmp_path / "run.log"
    env = dict(os.environ, LOCUST_CHAOS_HOME=str(home))
    with open(log, "w") as out:
        proc = subprocess.Popen([os.path.join(BIN, "locust-chaos"), "run", "worker-crash", "--run-time", "30s",
                                 "--report-dir", str(tmp_path / "report")], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        # The kill lands at +5 s and is healed at +25 s: interrupt in between.
        wait_for(lambda: "fault kill-worker injected" in log.read_text(), 60, "the worker kill to land")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=90) == 3
    output = log.read_text()
    assert "run interrupted before its verdict; every fault healed" in output
    assert "Traceback" not in output
    assert Journal(os.path.join(home, "journal.jsonl")).pending() == []
    assert stack_leftovers(output) == []
