""""Point it at your own system", exactly as the README says: a service the harness knows nothing about
(examples/holds: answers 200 with its own hold_id, stock in a Redis key, a Redis stream to PostgreSQL), started
the way its owner starts it, driven by the README's profile, locustfile and scenario — no change to the core."""
import os
import re
import subprocess
import sys

import pytest

from chaos_hooks.common.procs import free_port, read_pidfile, stop_pid
from chaos_hooks.spec.profile import load_profile
from helpers import ROOT, history_records, load_verdict, redis_get, run_cli, servers_only, sql, wait_for

EXAMPLE = os.path.join(ROOT, "examples", "holds")


def readme_block(after: str, lang: str) -> str:
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text[text.index(after):]
    return re.search(rf"```{lang}\n(.*?)\n```", section, re.S).group(1)


def test_the_readme_shows_the_files_the_test_runs():
    assert readme_block("**1. The target profile**", "yaml") == open(f"{EXAMPLE}/target.yaml").read().rstrip("\n")
    assert readme_block("**2. The locustfile**", "python") == open(f"{ROOT}/locustfiles/holds.py").read().rstrip("\n")
    assert readme_block("**3. The scenario**", "yaml") == open(f"{EXAMPLE}/hold-rush.yaml").read().rstrip("\n")


@pytest.fixture
def holds_service(tmp_path):
    """The holds service with its own Redis and PostgreSQL, started by pidfile as its owner would."""
    stack = servers_only({"cache": {"kind": "redis"}, "db": {"kind": "postgresql", "database": "holds"}})
    urls = stack.start_servers()
    port = free_port()
    env = dict(os.environ, HOLDS_REDIS_URL=urls["cache"], HOLDS_DATABASE_URL=urls["db"])
    pidfiles = {name: str(tmp_path / f"{name}.pid") for name in ("api", "worker")}
    started = [subprocess.Popen([sys.executable, "-m", "examples.holds.api", "--port", str(port), "--pidfile",
                                 pidfiles["api"]], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT),
               subprocess.Popen([sys.executable, "-m", "examples.holds.worker", "--pidfile", pidfiles["worker"]],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)]
    try:
        wait_for(lambda: all(read_pidfile(p) for p in pidfiles.values()), 30, "the holds service")
        profile = open(f"{EXAMPLE}/target.yaml").read()
        for old, new in (("http://127.0.0.1:8080", f"http://127.0.0.1:{port}"),
                         ("postgresql://postgres@127.0.0.1:5432/holds", urls["db"]),
                         ("redis://127.0.0.1:6379/0", urls["cache"]), ("/tmp/holds/worker.pid", pidfiles["worker"]),
                         ("/tmp/holds/worker.log", str(tmp_path / "worker.log")), ("/srv/locust-chaos", ROOT),
                         ("[python3,", f"[{sys.executable},")):
            assert old in profile
            profile = profile.replace(old, new)
        target = tmp_path / "target.yaml"
        target.write_text(profile)
        yield str(target), urls
    finally:
        for pidfile in pidfiles.values():  # the worker may be a copy a heal started: its pidfile names it
            stop_pid(read_pidfile(pidfile))
        for proc in started:
            stop_pid(proc.pid)
        stack.down()


def test_a_system_the_harness_never_heard_of_gets_a_true_verdict(holds_service, tmp_path, home):
    target, urls = holds_service
    scenario, locustfile = f"{EXAMPLE}/hold-rush.yaml", f"{ROOT}/locustfiles/holds.py"
    code, out = run_cli(["validate", scenario, "--target", target], home)
    assert code == 0 and "reachable: ready" in out, out
    first_worker = load_profile(target).components["worker"].running_pid()
    code, out = run_cli(["run", scenario, "--target", target, "--locustfile", locustfile, "--report-dir",
                         str(tmp_path / "report")], home)
    assert code == 0, out[-3000:]
    verdict = load_verdict(tmp_path / "report")
    assert {i["name"]: i["status"] for i in verdict["invariants"]} == {
        "no_data_loss": "valid", "no_oversell": "valid", "no_duplicates": "valid", "catch_up": "valid"}
    sku = verdict["values"]["sku"]
    kept = dict(sql(urls["db"], "SELECT request_key, hold_id FROM holds WHERE sku = %s", (sku,)))
    acked = {op["key"]: op["id"] for op in history_records(tmp_path / "report") if op["outcome"] == "ok"}
    assert len(acked) > 30 and acked == {k: kept[k] for k in acked}  # every acknowledged hold kept, same id
    assert redis_get(urls["cache"], f"stock:{sku}") + len(kept) == 100
    fault = verdict["faults"][0]
    assert fault["facts"]["pid"] == first_worker and fault["healed_at"] is not None
    assert load_profile(target).components["worker"].running_pid() not in (None, first_worker)


def test_init_writes_a_profile_that_loads(tmp_path, home):
    path = tmp_path / "mine.yaml"
    code, out = run_cli(["init", "--output", str(path)], home)
    assert code == 0 and path.exists()
    profile = load_profile(str(path))
    assert set(profile.reads) == {"persisted", "stock_left", "backlog"} and "worker" in profile.components
    code, out = run_cli(["init", "--output", str(path)], home)
    assert code == 2 and "already exists" in out
