"""Shared helpers for tests that drive the real CLI, real stacks and real datastores."""
import json
import os
import subprocess
import sys
import time

import psycopg
import redis

BIN = os.path.dirname(sys.executable)
CLI = os.path.join(BIN, "locust-chaos")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Presets in shorter windows for the suite (tests/system/scenarios): the presets themselves run in test_presets.py
# and test_readme_commands.py.
SHOP_CRASH = os.path.join(ROOT, "tests", "system", "scenarios", "shop-crash.yaml")  # worker-crash: kill 1-6 s of 7
PIPE_CRASH = os.path.join(ROOT, "tests", "system", "scenarios", "pipe-crash.yaml")  # event-consumer-crash: 1-5 s of 6
# For the loss bugs: the kill at 1 s lasts to the end (4 s), the catch-up bound is 3 s, so the count is taken
# before the restarted writer (it writes what it acknowledges 8 s later) can add a row.
SHOP_CRASH_LOST = os.path.join(ROOT, "tests", "system", "scenarios", "shop-crash-lost.yaml")
PIPE_CRASH_LOST = os.path.join(ROOT, "tests", "system", "scenarios", "pipe-crash-lost.yaml")


def counted_by(verdict: dict) -> float:
    """When the harness had read what was kept, at the latest: the load's end, the 3 s catch-up bound, its read."""
    return verdict["load_ended_at"] + 4.0


def run_cli(args, home=None, timeout=240, env_extra=None, cwd=ROOT):
    env = dict(os.environ, **(env_extra or {}))
    if home is not None:
        env["LOCUST_CHAOS_HOME"] = str(home)
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    return proc.returncode, proc.stdout + proc.stderr


def servers_only(servers=None, links=()):
    """An embedded stack that runs only datastore servers (no system) and the fault proxy's links to those
    named in links, for tests of reads, faults and the proxy."""
    from chaos_hooks.stack.embedded import EmbeddedStack
    from chaos_hooks.spec.reference_systems import SystemSpec
    spec = SystemSpec(name="datastores", dir=ROOT, source="tests/helpers.py",
                      servers=servers or {"cache": {"kind": "redis"}, "db": {"kind": "postgresql", "database": "t"},
                                          "bus": {"kind": "nats"}}, links=list(links))
    return EmbeddedStack(spec, die_with_parent=True, progress=lambda *_: None)


def chaos_run(stack, tmp_path, scenario, *args, name="report", seed=7):
    """`locust-chaos run SCENARIO --target` against a stack a test started; (code, output, verdict, history)."""
    report = tmp_path / name
    code, out = run_cli(["run", scenario, "--target", stack.profile_path, "--report-dir", str(report),
                         "--seed", str(seed), *args])
    assert "Traceback" not in out, out[-3000:]
    return code, out, load_verdict(report), history_records(report)


def load_verdict(report_dir) -> dict:
    with open(os.path.join(report_dir, "verdict.json")) as f:
        return json.load(f)


def invariant(verdict: dict, name: str) -> dict:
    return next(i for i in verdict["invariants"] if i["name"] == name)


def history_records(report_dir) -> list[dict]:
    with open(os.path.join(report_dir, "history.jsonl")) as f:
        return [json.loads(line) for line in f if not line.startswith("#")]


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def kept_before(url: str, select: str, where: str, params: tuple, written_at: str, before: float | None = None,
                order_by: str | None = None) -> list[tuple]:
    """`select` of the rows matching `where` that the system wrote before `before` (epoch s), read from its own
    `written_at` column: what was kept when the harness counted, however late a test reads."""
    query = (f"SELECT {select} WHERE {where} AND {written_at} < to_timestamp(%s)"
             + (f" ORDER BY {order_by}" if order_by else ""))
    return sql(url, query, (*params, 1e10 if before is None else before))


def redis_get(url: str, key: str):
    value = redis.Redis.from_url(url).get(key)
    return None if value is None else int(value)


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions text (a check only; nothing here signals them)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if text in cmd:
            found.append(int(entry))
    return found


def ledger_alive(path) -> list[dict]:
    """Entries of a ledger whose process still runs (same pid and start time)."""
    from chaos_hooks.targets.ledger import Ledger
    return Ledger(str(path)).running()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
