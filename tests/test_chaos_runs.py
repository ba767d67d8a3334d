"""End-to-end chaos runs through `locust-chaos run` on the real embedded stack.

Each seeded bug must fail its verdict for the right reason: the invariant and its figure.
"""
import pytest

from helpers import invariant, load_verdict, run_cli, stack_leftovers

pytestmark = pytest.mark.slow


def chaos_run(tmp_path, home, *args, bugs=None):
    report = tmp_path / "report"
    cli_args = ["run", *args, "--report-dir", str(report), "--seed", "7"]
    if bugs:
        cli_args += ["--bugs", bugs]
    code, out = run_cli(cli_args, home)
    assert "Traceback" not in out, out[-3000:]
    assert stack_leftovers(out) == [], "a stack process outlived the run"
    return code, out, load_verdict(report)


def assert_fault_fired_on_time(verdict):
    (fault,) = verdict["faults"]
    assert fault["name"] == "kill-worker" and fault["error"] is None
    assert 4.9 <= fault["injected_at"] <= 5.6
    assert 24.9 <= fault["healed_at"] <= 26.5
    assert fault["facts"]["pid"] > 0


@pytest.mark.parametrize("workers", [0, 2])
def test_worker_crash_passes_on_the_correct_shop(tmp_path, home, workers):
    code, out, verdict = chaos_run(tmp_path, home, "worker-crash", "--run-time", "30s", "--workers", str(workers))
    assert code == 0, out[-3000:]
    assert verdict["passed"] is True
    assert {i["name"]: i["passed"] for i in verdict["invariants"]} == {
        "no_data_loss": True, "no_oversell": True, "no_duplicates": True, "catch_up": True}
    assert verdict["workers"] == workers and verdict["history_complete"]
    h = verdict["history"]
    assert h["acked"] > 50 and h["lost"] == 0 and h["unexpected"] == 0
    assert verdict["stock"]["persisted"] + verdict["stock"]["redis_left"] == 100
    assert verdict["catch_up_s"] is not None and verdict["catch_up_s"] <= 30
    assert_fault_fired_on_time(verdict)
    facts = verdict["faults"][0]["facts"]
    assert facts["backlog_at_heal"] > 0, "no order queued while the worker was down: the fault proved nothing"
    assert facts["backlog_drained_s"] < 30
    assert "locust-chaos verdict: worker-crash  ->  PASSED" in out


def test_ack_before_commit_loses_acknowledged_orders(tmp_path, home):
    code, out, verdict = chaos_run(tmp_path, home, "worker-crash", "--run-time", "30s", bugs="ack-before-commit")
    assert code == 1, out[-3000:]
    loss = invariant(verdict, "no_data_loss")
    assert loss["passed"] is False and loss["figure"] > 0
    assert verdict["history"]["lost"] == loss["figure"]
    assert f"lost {loss['figure']} of {verdict['history']['acked']} acknowledged" in loss["summary"]
    assert_fault_fired_on_time(verdict)


def flash_sale_failing_only(tmp_path, home, bug: str, failing: str) -> tuple[dict, dict]:
    """Runs flash-sale with a bug switch; the named invariant fails with a figure, the others hold."""
    code, out, verdict = chaos_run(tmp_path, home, "flash-sale", "--run-time", "8s", bugs=bug)
    assert code == 1, out[-3000:]
    results = {i["name"]: i for i in verdict["invariants"]}
    assert results[failing]["passed"] is False and results[failing]["figure"] > 0
    assert all(r["passed"] for name, r in results.items() if name != failing), results
    return verdict, results[failing]


def test_non_atomic_reserve_oversells(tmp_path, home):
    verdict, oversell = flash_sale_failing_only(tmp_path, home, "non-atomic-reserve", "no_oversell")
    assert verdict["stock"]["persisted"] == verdict["stock"]["initial"] + oversell["figure"]


def test_no_idempotency_duplicates_retried_orders(tmp_path, home):
    verdict, dup = flash_sale_failing_only(tmp_path, home, "no-idempotency", "no_duplicates")
    assert verdict["history"]["duplicated"] == dup["figure"]
