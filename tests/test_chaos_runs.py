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


def test_non_atomic_reserve_oversells(tmp_path, home):
    code, out, verdict = chaos_run(tmp_path, home, "flash-sale", "--run-time", "8s", bugs="non-atomic-reserve")
    assert code == 1, out[-3000:]
    oversell = invariant(verdict, "no_oversell")
    assert oversell["passed"] is False and oversell["figure"] > 0
    assert verdict["stock"]["persisted"] == verdict["stock"]["initial"] + oversell["figure"]
    assert invariant(verdict, "no_data_loss")["passed"] and invariant(verdict, "no_duplicates")["passed"]


def test_no_idempotency_duplicates_retried_orders(tmp_path, home):
    code, out, verdict = chaos_run(tmp_path, home, "flash-sale", "--run-time", "8s", bugs="no-idempotency")
    assert code == 1, out[-3000:]
    dup = invariant(verdict, "no_duplicates")
    assert dup["passed"] is False and dup["figure"] > 0
    assert verdict["history"]["duplicated"] == dup["figure"]
    assert invariant(verdict, "no_oversell")["passed"] and invariant(verdict, "no_data_loss")["passed"]
