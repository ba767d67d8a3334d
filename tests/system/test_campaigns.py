"""Campaigns on the real shop (embedded stacks, --bugs ack-before-commit, which only a kill of the order writer
exposes): `matrix` over short scenarios, `replay` of a random-nemesis run, `shrink` of a failing four-fault
run to a schedule that still fails no_data_loss when run by the command it prints.

One matrix (module fixture) feeds the replay and shrink tests; the whole file stays under about 4 minutes."""
import json
import os
import shlex
import signal
import subprocess
from xml.etree import ElementTree

import pytest

from helpers import CLI, ROOT, ledger_alive, load_verdict, processes_mentioning, run_cli, wait_for
from chaos_hooks.spec.scenario import load_scenario

pytestmark = pytest.mark.slow
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "campaigns")
SCENARIOS = [os.path.join(HERE, f"{n}.yaml") for n in ("four-faults", "sale-short", "nemesis-short", "needs-consumer")]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    camp = tmp_path_factory.mktemp("campaign") / "matrix"
    code, out = run_cli(["matrix", *SCENARIOS, "--bugs", "ack-before-commit", "--report-dir", str(camp)], timeout=400)
    assert "Traceback" not in out, out[-3000:]
    with open(camp / "matrix.json") as f:
        doc = json.load(f)
    return camp, code, out, {p["name"]: p for p in doc["presets"]}, doc


def invalid(verdict) -> list[str]:
    return sorted(i["name"] for i in verdict["invariants"] if i["status"] == "invalid")


def test_matrix_rows_junit_and_exit_code_agree_with_each_runs_verdict(campaign):
    camp, code, out, rows, doc = campaign
    assert code == 1 and doc["status"] == "invalid", out[-3000:]
    assert list(rows) == ["four-faults", "sale-short", "nemesis-short", "needs-consumer"]
    assert rows["needs-consumer"]["status"] == "skipped" and "consumer" in rows["needs-consumer"]["detail"]
    assert not os.path.exists(camp / "needs-consumer")  # skipped: never started
    verdicts = {name: load_verdict(rows[name]["report"]) for name in ("four-faults", "sale-short", "nemesis-short")}
    assert verdicts["four-faults"]["status"] == "invalid" and "no_data_loss" in invalid(verdicts["four-faults"])
    assert verdicts["sale-short"]["status"] == "valid" and verdicts["nemesis-short"]["status"] == "valid"
    suites = {s.get("name"): s for s in ElementTree.parse(camp / "junit.xml").getroot().findall("testsuite")}
    assert set(suites) == {f"locust-chaos.{n}" for n in rows}
    for name, verdict in verdicts.items():
        row = rows[name]
        assert row["status"] == verdict["status"] and row["invalid"] == [
            i["name"] for i in verdict["invariants"] if i["status"] == "invalid"]
        assert row["run_id"] == verdict["run_id"] and os.path.dirname(row["report"]) == str(camp)
        lost = next(i["figure"] for i in verdict["invariants"] if i["name"] == "no_data_loss")
        assert row["figures"]["lost"] == lost
        assert len(row["phases"]) == len(verdict["phases"])
        suite = suites[f"locust-chaos.{name}"]
        assert int(suite.get("failures")) == len(invalid(verdict))
        assert {c.get("name") for c in suite.findall("testcase")} >= {i["name"] for i in verdict["invariants"]}
        with open(os.path.join(row["report"], "run.json")) as f:
            record = json.load(f)
        assert record["bugs"] == "ack-before-commit" and record["seed"] == verdict["seed"] is not None
        assert os.path.isfile(os.path.join(row["report"], "scenario.yaml"))
    assert suites["locust-chaos.needs-consumer"].find("testcase/skipped") is not None
    page = (camp / "matrix.html").read_text()
    for name in verdicts:
        assert f"href='{name}/report.html'" in page and os.path.isfile(camp / name / "report.html")
    assert "\nlocust-chaos matrix: INVALID (4 presets: 2 pass, 1 fail, 1 skipped); report " in out
    assert "matrix: [3/3] nemesis-short (about" in out
    # Each run left nothing behind: no Locust process (by its ledger), nothing of its stack's directory running.
    for name in verdicts:
        assert ledger_alive(os.path.join(rows[name]["report"], "locust-processes.jsonl")) == []
    pidfile = next(f for f in verdicts["four-faults"]["faults"] if f["name"] == "kill-worker")["description"]
    stack_dir = pidfile.split("pidfile ")[1].split("/worker.pid")[0]
    assert stack_dir.startswith("/tmp/") and processes_mentioning(stack_dir) == []


def test_replay_of_a_random_nemesis_run_draws_the_same_schedule_and_verdict(campaign, tmp_path):
    _, _, _, rows, _ = campaign
    original = rows["nemesis-short"]["report"]
    out_dir = tmp_path / "replay"
    code, out = run_cli(["replay", original, "--report-dir", str(out_dir)], timeout=200)
    assert "Traceback" not in out, out[-3000:]
    assert code == 0 and "SAME" in out, out[-3000:]
    before, after = load_verdict(original), load_verdict(out_dir)
    with open(os.path.join(original, "run.json")) as f:
        record = json.load(f)
    assert load_scenario(os.path.join(original, "scenario.yaml")).nemesis.seed is None  # drawn from the run's seed
    assert before["nemesis_seed"] == record["nemesis_seed"] == after["nemesis_seed"] == record["seed"]
    assert before["seed"] == after["seed"] and before["run_id"] != after["run_id"]
    with open(os.path.join(original, "faults.json")) as f:
        faults_before = json.load(f)
    with open(out_dir / "faults.json") as f:
        faults_after = json.load(f)
    assert len(faults_before) >= 2
    assert [f["name"] for f in faults_after] == [f["name"] for f in faults_before]
    for a, b in zip(faults_before, faults_after):
        assert b["injected_at"] is not None and abs(a["injected_at"] - b["injected_at"]) <= 0.05, (a, b)
    assert (after["status"], invalid(after)) == (before["status"], invalid(before))


def test_shrink_finds_the_kill_and_the_printed_command_fails_no_data_loss_again(campaign, tmp_path):
    _, _, _, rows, _ = campaign
    failed = rows["four-faults"]["report"]
    proc = subprocess.run([CLI, "shrink", failed, "--budget", "35s"], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    code, stdout, out = proc.returncode, proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-3000:]
    assert code == 1, out[-3000:]
    steps = [ln for ln in out.splitlines() if ln.startswith("step ")]
    assert steps[0].startswith("step 1: replay the original: [") and "FAILS no_data_loss" in steps[0], out[-3000:]
    assert any("drop faults" in s for s in steps) and all("runs " in s and " of 35s" in s for s in steps)
    shrunk = load_scenario(os.path.join(failed, "shrunk.yaml"))
    assert shrunk.nemesis is None and 1 <= len(shrunk.faults) <= 2
    assert any((f.action, f.target) == ("process.kill", "worker") for f in shrunk.faults)
    last = stdout.rstrip().splitlines()[-1]  # it ends with the command
    assert last.startswith("run it: locust-chaos run "), out[-2000:]
    argv = shlex.split(last[len("run it: "):])
    assert "--bugs" in argv and "ack-before-commit" in argv
    report = tmp_path / "again"
    again, out2 = run_cli([*argv[1:], "--report-dir", str(report)], timeout=200)
    assert again == 1, out2[-3000:]
    verdict = load_verdict(report)
    assert "no_data_loss" in invalid(verdict)
    assert sorted(f["name"] for f in verdict["faults"]) == sorted(f.name for f in shrunk.faults)


def test_ctrl_c_heals_the_run_going_on_and_leaves_the_rest_not_run(tmp_path):
    camp = tmp_path / "matrix"
    log = camp / "four-faults" / "cli.log"
    proc = subprocess.Popen([CLI, "matrix", SCENARIOS[0], SCENARIOS[1], "--bugs", "ack-before-commit",
                             "--report-dir", str(camp)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)
    try:
        wait_for(lambda: log.exists() and "fault kill-worker injected" in log.read_text(), 60, "the kill")
        proc.send_signal(signal.SIGINT)  # while the worker is down
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3 and "Traceback" not in out, out[-3000:]
    with open(camp / "matrix.json") as f:
        rows = {p["name"]: p for p in json.load(f)["presets"]}
    assert rows["four-faults"]["status"] == "interrupted" and rows["sale-short"]["status"] == "not run"
    assert not (camp / "sale-short").exists()
    verdict = load_verdict(camp / "four-faults")
    assert verdict["partial"]
    kill = next(f for f in verdict["faults"] if f["name"] == "kill-worker")
    assert kill["injected_at"] is not None and kill["healed_at"] is not None  # restarted before the run ended
    assert "interrupted" in log.read_text()
    stack_dir = kill["description"].split("pidfile ")[1].split("/worker.pid")[0]
    assert processes_mentioning(stack_dir) == []
    assert ledger_alive(camp / "four-faults" / "locust-processes.jsonl") == []


def test_sigkill_of_the_campaign_then_heal_leaves_nothing_applied(tmp_path, home):
    """kill -9 of `matrix` while its run has the worker down: the kernel tells the run (parent-death SIGINT), it
    heals and ends interrupted; `heal` afterwards finds nothing applied and no process of the run is left."""
    import psutil
    camp = tmp_path / "matrix"
    log = camp / "four-faults" / "cli.log"
    proc = subprocess.Popen([CLI, "matrix", SCENARIOS[0], SCENARIOS[1], "--bugs", "ack-before-commit",
                             "--report-dir", str(camp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=ROOT, env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)))
    try:
        wait_for(lambda: log.exists() and "fault kill-worker injected" in log.read_text(), 60, "the kill")
        run_pid = psutil.Process(proc.pid).children()[0].pid
        proc.kill()  # SIGKILL: nothing of ours runs in the campaign process to pass anything on
        proc.wait(timeout=10)
        run = psutil.Process(run_pid)
        wait_for(lambda: not run.is_running() or run.status() == psutil.STATUS_ZOMBIE, 90, "the run to end")
    finally:
        if proc.poll() is None:
            proc.kill()
    verdict = load_verdict(camp / "four-faults")
    assert verdict["status"] == "interrupted" and verdict["partial"], verdict.get("interrupted")
    kill = next(f for f in verdict["faults"] if f["name"] == "kill-worker")
    assert kill["injected_at"] is not None and kill["healed_at"] is not None
    code, out = run_cli(["heal"], home=home)
    assert code == 0 and out.startswith("nothing to heal"), out
    stack_dir = kill["description"].split("pidfile ")[1].split("/worker.pid")[0]
    assert processes_mentioning(stack_dir) == []
    assert ledger_alive(camp / "four-faults" / "locust-processes.jsonl") == []
    assert not (camp / "sale-short").exists()  # the campaign died with its first run: nothing more started
