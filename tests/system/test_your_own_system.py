""""Point it at your own system", exactly as the README says: a service the harness knows nothing about
(examples/holds: answers 200 with its own hold_id, stock in a Redis key, a Redis stream to PostgreSQL), started
the way its owner starts it, driven by the README's profile, locustfile and scenario — no change to the core."""
import os
import re
import subprocess
import sys

import pytest

from chaos_hooks.spec.profile import load_profile
from helpers import ROOT, history_records, load_verdict, redis_get, run_cli, sql

EXAMPLE = os.path.join(ROOT, "examples", "holds")


def readme_block(after: str, lang: str) -> str:
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text[text.index(after):]
    return re.search(rf"```{lang}\n(.*?)\n```", section, re.S).group(1)


def test_the_readme_shows_the_files_the_test_runs():
    assert readme_block("**1. The target profile**", "yaml") == open(f"{EXAMPLE}/target.yaml").read().rstrip("\n")
    assert readme_block("**2. The locustfile**", "python") == open(f"{ROOT}/locustfiles/holds.py").read().rstrip("\n")
    assert readme_block("**3. The scenario**", "yaml") == open(f"{EXAMPLE}/hold-rush.yaml").read().rstrip("\n")


ACTIVATED = {"PATH": os.path.join(ROOT, ".venv", "bin") + os.pathsep + os.environ["PATH"]}  # `. .venv/bin/activate`
HOLDS_DB, HOLDS_CACHE = "postgresql://postgres@127.0.0.1:15433/holds", "redis://127.0.0.1:16380/0"


@pytest.fixture
def holds_service():
    """The holds service started the way its owner starts it (examples/holds/service.py), on the ports its
    target.yaml names: the README's files are used exactly as they are."""
    env = dict(os.environ, **ACTIVATED)
    up = subprocess.run([sys.executable, "-m", "examples.holds.service", "up"], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=120)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield f"{EXAMPLE}/target.yaml", {"db": HOLDS_DB, "cache": HOLDS_CACHE}
    finally:
        subprocess.run([sys.executable, "-m", "examples.holds.service", "down"], cwd=ROOT, env=env, timeout=120)


def test_a_system_the_harness_never_heard_of_gets_a_true_verdict(holds_service, tmp_path, home):
    target, urls = holds_service
    scenario, locustfile = f"{EXAMPLE}/hold-rush.yaml", f"{ROOT}/locustfiles/holds.py"
    code, out = run_cli(["validate", scenario, "--target", target], home, env_extra=ACTIVATED)
    assert code == 0 and "reachable: ready" in out, out
    first_worker = load_profile(target).components["worker"].running_pid()
    code, out = run_cli(["run", scenario, "--target", target, "--locustfile", locustfile, "--report-dir",
                         str(tmp_path / "report")], home, env_extra=ACTIVATED)
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
