"""Verdicts that must not pass: nothing acknowledged, a read that fails; and a user's own invariant, loaded as
a plugin, working from `locust-chaos run`, `validate` and plain `locust` alike."""
import json
import os
import subprocess
import textwrap

import pytest

from helpers import BIN, ROOT, invariant, load_verdict, run_cli

pytestmark = pytest.mark.slow

ERRORS_ONLY = """\
from locust import FastHttpUser, constant, task

from chaos_hooks import history


class Lost(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def order(self):
        with history.operation("order", history.new_key()) as op:
            op.from_http(self.client.post("/no-such-endpoint"))
"""

MY_CHECKS = '''\
"""A user's own invariant: at least `min` rows were kept."""
from chaos_hooks.invariants import INVALID, VALID, Result, register


@register("kept_at_least", params={"min": "int"}, needs={"persisted": "rows"})
def kept_at_least(history, reads, params):
    rows = reads.get("persisted")
    status = VALID if rows.n >= params.get("min", 1) else INVALID
    return Result("kept_at_least", status, f"{rows.n} rows kept", figure=rows.n)
'''


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_verdicts_that_cannot_pass_and_a_plugin_invariant(system_stack, tmp_path, home):
    stack = system_stack("shop")
    locustfile = write(tmp_path / "errors_only.py", ERRORS_ONLY)
    scenario = write(tmp_path / "s.yaml", """\
        name: only-errors
        load: {users: 5, spawn_rate: 5, run_time: 3s, user_classes: [Lost]}
        values: {product: "e-{run_id}", stock: 5}
        invariants: {no_data_loss: {}, no_duplicates: {}}
        """)
    code, out = run_cli(["run", scenario, "--target", stack.profile_path, "--locustfile", locustfile,
                         "--report-dir", str(tmp_path / "r1")], home)
    verdict = load_verdict(tmp_path / "r1")
    assert code == 3, out[-3000:]
    assert "nothing was acknowledged" in verdict["harness_problems"] and verdict["passed"] is False
    assert verdict["status"] == "unknown" and "PASSED" not in out and "->  UNKNOWN" in out
    assert invariant(verdict, "no_data_loss")["status"] == "unknown"
    assert verdict["history"]["ops"] > 10 and verdict["history"]["acked"] == 0

    # A read that fails (wrong SQL): only the invariant that needs it is undecided; the report is written.
    profile = json.loads(open(stack.profile_path).read())
    profile["reads"]["stock_left"] = {"from": "db", "sql": "SELECT stock FROM no_such_table"}
    broken = tmp_path / "target.json"
    broken.write_text(json.dumps(profile))
    code, out = run_cli(["run", "flash-sale", "--run-time", "4s", "--target", str(broken),
                         "--report-dir", str(tmp_path / "r2")], home)
    verdict = load_verdict(tmp_path / "r2")
    assert code == 3, out[-3000:]
    statuses = {i["name"]: i["status"] for i in verdict["invariants"]}
    assert statuses == {"no_data_loss": "valid", "no_oversell": "unknown", "no_duplicates": "valid",
                        "catch_up": "valid"}
    assert "no_such_table" in verdict["reads_failed"]["stock_left"]
    assert "no_such_table" in invariant(verdict, "no_oversell")["summary"]
    assert os.path.getsize(tmp_path / "r2" / "history.jsonl") > 0

    # A user's invariant from a plugin module, named in the scenario: validate, run and plain locust.
    write(tmp_path / "my_checks.py", MY_CHECKS)
    mine = write(tmp_path / "mine.yaml", """\
        name: mine
        system: shop
        plugins: [my_checks]
        load: {users: 10, spawn_rate: 10, run_time: 3s, user_classes: [OrderUser], wait: [0.1, 0.3]}
        values: {product: "m-{run_id}", stock: 50}
        invariants: {kept_at_least: {min: 1}, no_data_loss: {}}
        """)
    env = {"PYTHONPATH": str(tmp_path)}
    code, out = run_cli(["validate", mine], home, env_extra=env)
    assert code == 0 and "kept_at_least" in out, out
    code, out = run_cli(["run", mine, "--target", stack.profile_path, "--report-dir", str(tmp_path / "r3")], home,
                        env_extra=env)
    assert code == 0, out[-3000:]
    rows = invariant(load_verdict(tmp_path / "r3"), "kept_at_least")
    assert rows["status"] == "valid" and rows["figure"] == load_verdict(tmp_path / "r3")["history"]["persisted_rows"]
    proc = subprocess.run([os.path.join(BIN, "locust"), "-f", "locustfiles/shop.py", "--headless",
                           "--chaos-scenario-file", mine, "--chaos-target", stack.profile_path,
                           "--chaos-report-dir", str(tmp_path / "r4")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, LOCUST_CHAOS_HOME=str(home), **env))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert invariant(load_verdict(tmp_path / "r4"), "kept_at_least")["status"] == "valid"
    # ...and the options are documented (Locust prints its --help before it imports a locustfile, so the
    # plugin's options are listed by `locust-chaos --help`).
    help_text = run_cli(["--help"], home)[1]
    for option in ("--scenario", "--chaos-target", "--chaos-plugin", "--chaos-report-dir", "--chaos-scenario-file"):
        assert option in help_text
