"""End-to-end chaos runs of the second reference system — HTTP ingest -> NATS JetStream -> consumer ->
PostgreSQL — configured only through its profile, locustfile and presets. What it kept is read back with SQL
and compared with the verdict; each seeded bug fails the right invariant with the right figure. The kill runs are
event-consumer-crash in a shorter window (helpers.PIPE_CRASH)."""
from collections import defaultdict

import pytest

from helpers import PIPE_CRASH, PIPE_CRASH_LOST, chaos_run, counted_by, invariant, kept_before

pytestmark = pytest.mark.slow


def kept_rows(stack, run_id, before: float | None = None) -> list[tuple[str, int]]:
    """(stream key, seq) of every event kept for the run (written before `before`), in the order the consumer
    wrote them."""
    return kept_before(stack.datastores["db"], "stream_key, seq FROM events", "payload->>'run' = %s", (run_id,),
                       "persisted_at", before, order_by="id")


def acked(history) -> list[dict]:
    return [op for op in history if op["outcome"] == "ok"]


def test_clean_pipeline_passes_consumer_crash_with_and_without_workers(system_stack, tmp_path):
    stack = system_stack("eventpipe")
    for workers in (0, 2):
        code, out, verdict, history = chaos_run(stack, tmp_path, PIPE_CRASH, "--workers", str(workers),
                                                name=f"ecc-{workers}")  # killed at 1 s, healed at 5 s, ends at 6 s
        assert code == 0, out[-3000:]
        assert {i["name"]: i["status"] for i in verdict["invariants"]} == {
            "no_data_loss": "valid", "no_duplicates": "valid", "per_key_order": "valid", "catch_up": "valid"}
        rows = kept_rows(stack, verdict["run_id"])
        ok = {(op["key"], op["seq"]) for op in acked(history)}
        assert len(ok) > 500 and ok <= set(rows) and len(rows) == len(set(rows))
        fault = verdict["faults"][0]
        assert fault["error"] is None and fault["facts"]["backlog_at_heal"] > 0


def test_ack_before_commit_loses_acknowledged_events(system_stack, tmp_path):
    stack = system_stack("eventpipe", bugs=["ack-before-commit"])
    code, out, verdict, history = chaos_run(stack, tmp_path, PIPE_CRASH_LOST)
    assert code == 1, out[-3000:]
    # What was kept when the harness counted: its reads end within the 3 s bound after the load; the consumer,
    # restarted at the end of the load, writes nothing until 8 s after it acknowledged.
    counted = kept_rows(stack, verdict["run_id"], before=counted_by(verdict))
    lost = {(op["key"], op["seq"]) for op in acked(history)} - set(counted)
    loss = invariant(verdict, "no_data_loss")
    assert loss["status"] == "invalid" and loss["figure"] == len(lost) > 0
    order = invariant(verdict, "per_key_order")  # a missing seq is a gap in its key, decided even with no row kept
    assert order["status"] == "invalid" and order["figure"] == len({key for key, _ in lost})


def test_no_dedupe_persists_redelivered_events_twice(system_stack, tmp_path):
    stack = system_stack("eventpipe", bugs=["no-dedupe"])
    code, out, verdict, _ = chaos_run(stack, tmp_path, PIPE_CRASH)  # the restart at 5 s redelivers what it committed
    assert code == 1, out[-3000:]
    counts = defaultdict(int)
    for row in kept_rows(stack, verdict["run_id"]):
        counts[row] += 1
    twice = [row for row, n in counts.items() if n > 1]
    dup = invariant(verdict, "no_duplicates")
    assert dup["status"] == "invalid" and dup["figure"] == len(twice) > 0


def test_parallel_consumer_breaks_per_key_order(system_stack, tmp_path):
    stack = system_stack("eventpipe", bugs=["parallel-consumer"])
    code, out, verdict, history = chaos_run(stack, tmp_path, "event-burst", "--run-time", "6s")
    assert code == 1, out[-3000:]
    # Independently: a key is out of order when a seq acknowledged before another was sent is kept after it.
    position = {}
    for i, row in enumerate(kept_rows(stack, verdict["run_id"])):
        position.setdefault(row, i)
    ops = {}
    for op in acked(history):
        first = ops.setdefault((op["key"], op["seq"]), op)
        first["complete"] = min(first["complete"], op["complete"])
    by_key = defaultdict(list)
    for (key, seq), op in ops.items():
        if (key, seq) in position:
            by_key[key].append((position[(key, seq)], op["invoke"], op["complete"]))
    disordered = {key for key, items in by_key.items()
                  if any(a[0] > b[0] and a[2] < b[1] for a in items for b in items)}
    order = invariant(verdict, "per_key_order")
    assert order["status"] == "invalid" and order["figure"] == len(disordered) > 0
