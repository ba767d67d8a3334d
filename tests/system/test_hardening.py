"""No traceback ever, nothing left running, heal never starts a second copy, a lost load generator never
makes a false alarm — each proven against real processes."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psycopg
import redis

from chaos_hooks.control.journal import Journal
from chaos_hooks.targets.ledger import Ledger
from chaos_hooks.common.procs import same_process
from helpers import BIN, CLI, ROOT, SHOP_CRASH, ledger_alive, load_verdict, run_cli, wait_for

BOOM_PLUGIN = '''\
"""A plugin with bugs of its own: the harness must turn them into one line and exit 3."""
from chaos_hooks.invariants import VALID, Result, register
from chaos_hooks.reads import register as register_read
from chaos_hooks.reads.base import Read
from chaos_hooks.setup_steps import register as register_step
from chaos_hooks.setup_steps.base import Step


@register_read
class BoomRead(Read):
    kind = "boom_read"

    def parse(self, spec, f, path):
        raise ZeroDivisionError("a read kind that divides by zero")


@register_step
class BoomStep(Step):
    kind = "boom_step"

    def run(self, ctx):
        raise KeyError("a setup step with a bug")


@register("always")
def always(history, reads, params):
    return Result("always", VALID, "holds")
'''


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_an_unexpected_exception_is_one_line_exit_3_and_error_log(tmp_path, home):
    write(tmp_path / "boom_plugin.py", BOOM_PLUGIN)
    env = {"PYTHONPATH": str(tmp_path)}
    profile = write(tmp_path / "target.yaml", "host: http://127.0.0.1:9\nreads: {x: {boom_read: 1}}\n")
    scenario = write(tmp_path / "s.yaml", "name: s\nload: {users: 1}\ninvariants: {always: {}}\n")
    code, out = run_cli(["validate", scenario, "--target", profile, "--chaos-plugin", "boom_plugin"], home,
                        env_extra=env)
    log = os.path.join(home, "error.log")
    assert code == 3, out
    assert out == (f"locust-chaos: internal error: ZeroDivisionError: a read kind that divides by zero, "
                   f"details in {log}\n")
    assert "Traceback" in open(log).read() and "boom_plugin.py" in open(log).read()

    # The same bug inside a Locust run (setup at test start): healed, one line, exit 3, no traceback.
    profile = write(tmp_path / "target2.yaml", "host: http://127.0.0.1:9\nsetup: [{boom_step: 1}]\n")
    proc = subprocess.run([os.path.join(BIN, "locust"), "-f", "locustfiles/shop.py", "--headless", "-t", "3s",
                           "-u", "1", "--chaos-plugin", "boom_plugin", "--chaos-scenario-file", scenario,
                           "--chaos-target", profile, "--chaos-report-dir", str(tmp_path / "report")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, LOCUST_CHAOS_HOME=str(home), **env))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 3, output[-3000:]
    assert "Traceback" not in output
    assert (f"locust-chaos: internal error: KeyError: 'a setup step with a bug', details in "
            f"{tmp_path / 'report' / 'error.log'}") in output


KILL_SCENARIO = """\
name: kill-me
system: shop
load: {users: 20, spawn_rate: 20, run_time: 12s, user_classes: [OrderUser], wait: [0.5, 1]}
values: {product: "k-{run_id}", stock: 1000}
faults: [{name: kill-worker, action: process.kill, target: worker, at: 1s, heal_after: 8s}]
invariants: {no_data_loss: {}}
"""


def test_sigkill_of_run_mid_fault_leaves_no_process_and_heal_leaves_nothing_on_disk(tmp_path, home):
    scenario = write(tmp_path / "kill.yaml", KILL_SCENARIO)
    rnd = random.Random(20261122)
    for attempt in range(3):
        log = tmp_path / f"run-{attempt}.log"
        report = tmp_path / f"report-{attempt}"
        with open(log, "w") as out:
            proc = subprocess.Popen([CLI, "run", scenario, "--report-dir", str(report)], cwd=ROOT,
                                    env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)), stdout=out,
                                    stderr=subprocess.STDOUT)
        wait_for(lambda: "fault kill-worker injected" in log.read_text(), 60, "the kill to land")
        stack_dir = re.search(r"servers \(.*\) in (\S+)", log.read_text()).group(1)
        moment = time.monotonic() + rnd.uniform(0.1, 2.5)  # inside the fault's 8 s window, seeded
        wait_for(lambda: time.monotonic() >= moment, 10, "the chosen moment")
        recorded = Ledger(os.path.join(stack_dir, "ledger.jsonl")).entries()
        recorded += Ledger(str(report / "locust-processes.jsonl")).entries()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert len(recorded) >= 6  # redis, postgres, proxy, worker, api, the Locust master
        wait_for(lambda: not [e for e in recorded if same_process(e["pid"], e.get("started"))], 15,
                 f"every process of the killed run's stack to end (attempt {attempt})")
        code, out = run_cli(["heal"], home)
        assert code == 0 and "Traceback" not in out, out
        assert not os.path.exists(stack_dir), f"{stack_dir} left on disk"
        assert not os.listdir(os.path.join(home, "stacks"))
        assert Journal(os.path.join(home, "journal.jsonl")).pending() == []


def test_a_lost_load_generator_is_named_and_makes_no_false_alarm(system_stack, tmp_path):
    stack = system_stack("shop")
    report = tmp_path / "report"
    db, cache = stack.datastores["db"], stack.datastores["cache"]
    samples, stop = [], threading.Event()

    def watch():  # the test's own view of the backlog and the kept rows, independent of the harness
        r = redis.Redis.from_url(cache)
        with psycopg.connect(db, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    group = [g for g in r.xinfo_groups("orders") if g["name"] in (b"order-writers", "order-writers")]
                    backlog = (group[0]["lag"] or 0) + group[0]["pending"] if group else 0
                except redis.ResponseError:
                    backlog = 0
                rows = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
                samples.append((time.time(), backlog, rows))
                time.sleep(0.05)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    env = dict(os.environ)
    proc = subprocess.Popen([CLI, "run", SHOP_CRASH, "--workers", "3", "--target", stack.profile_path,
                             "--report-dir", str(report), "--seed", "5"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ledger = Ledger(str(report / "locust-processes.jsonl"))
    wait_for(lambda: len(ledger.entries()) == 4, 30, "the Locust processes")
    wait_for(lambda: history_done(db), 30, "orders to flow")
    victim = next(e for e in ledger.entries() if e["component"] == "locust-worker-1")
    time.sleep(random.Random(11).uniform(1.0, 3.0))  # a seeded moment while orders flow
    os.kill(victim["pid"], signal.SIGKILL)
    output, _ = proc.communicate(timeout=180)
    stop.set()
    watcher.join()
    verdict = load_verdict(report)
    assert proc.returncode == 3, output[-3000:]
    assert [w["node"] for w in verdict["lost_workers"]] and verdict["lost_workers"][0]["ops_reported"] >= 0
    assert "load generator" in " ".join(verdict["harness_problems"]) and "lost mid-run" in output
    assert "load generators with complete history: 2" in output
    loss = next(i for i in verdict["invariants"] if i["name"] == "no_data_loss")
    assert loss["status"] == "valid" and verdict["history"]["unexpected"] == 0, loss
    # The harness's catch-up equals the drain the test saw itself: backlog empty and rows final.
    final = samples[-1][2]
    settled = next(t for i, (t, backlog, rows) in enumerate(samples)
                   if t >= verdict["load_ended_at"] and all(b == 0 and r == final for _, b, r in samples[i:]))
    assert abs((settled - verdict["load_ended_at"]) - verdict["catch_up_s"]) <= 1.0


def history_done(db) -> bool:
    with psycopg.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM orders").fetchone()[0] > 5


def test_a_component_that_never_writes_its_pidfile_is_started_at_most_once_per_heal(system_stack, tmp_path, home):
    stack = system_stack("shop")
    profile = json.loads(open(stack.profile_path).read())
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)", "never-writes-its-pidfile"]
    profile["components"]["worker"].update(start=sleeper, start_timeout=1)
    target = tmp_path / "target.json"
    target.write_text(json.dumps(profile))
    scenario = write(tmp_path / "s.yaml", """\
        name: no-pidfile
        system: shop
        load: {users: 2, spawn_rate: 2, run_time: 4s, user_classes: [OrderUser]}
        values: {product: "n-{run_id}", stock: 10}
        faults: [{name: kill-worker, action: process.kill, target: worker, at: 1s, heal_after: 1s}]
        invariants: {no_duplicates: {}, catch_up: {max: 1s}}
        """)

    def sleepers():
        return [e for e in Ledger(stack.ledger.path).entries() if "never-writes-its-pidfile" in e["argv"]]

    code, out = run_cli(["run", scenario, "--target", str(target), "--report-dir", str(tmp_path / "r1")], home)
    assert code == 3 and "did not write its pidfile" in out, out[-3000:]
    assert len(sleepers()) == 2
    assert not [e for e in sleepers() if same_process(e["pid"], e["started"])]  # each copy stopped again
    code, out = run_cli(["heal"], home)
    assert code == 3 and "heal failed, still applied (left in the journal)" in out and len(sleepers()) == 3
    code, out = run_cli(["run", scenario, "--target", str(target), "--report-dir", str(tmp_path / "r2")], home)
    assert code == 3 and "still applied" in out  # retried by preflight once, then refused, never silently
    assert len(sleepers()) == 4 and not [e for e in sleepers() if same_process(e["pid"], e["started"])]
    assert Journal(os.path.join(home, "journal.jsonl")).pending()  # still reported, never piled up
    stopped = stack.down()
    assert not any("worker" in s for s in stopped) and ledger_alive(stack.ledger.path) == []
