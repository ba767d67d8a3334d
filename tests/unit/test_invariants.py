"""Each invariant on hand-built histories and rows, and its properties (hypothesis): three-valued, isolated,
figures that count what they say."""
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chaos_hooks.history import FAIL, INFO, OK, Recorder
from chaos_hooks.history.store import HistoryStore
from chaos_hooks.history.view import HistoryView
from chaos_hooks.invariants import INVARIANTS, register, run_isolated
from chaos_hooks.verify.backlog_watch import CatchUp
from chaos_hooks.verify.read_results import ReadResults
from chaos_hooks.common.table import Table


def history(ops, values=None, source="local", **view):
    """ops: (key, outcome, id) or (key, outcome, id, seq, t0, t1)."""
    rec = Recorder()
    rec.reset("r")
    for i, op in enumerate(ops):
        key, outcome, ident = op[:3]
        seq = op[3] if len(op) > 3 else None
        t0 = op[4] if len(op) > 4 else time.time()
        rec.record("op", key, seq, outcome, ident if outcome == OK else None, 0, t0,
                   op[5] if len(op) > 5 else t0 + 0.001)
    store = HistoryStore()
    store.add(source, rec.take_all(), None)
    return HistoryView(store, values or {}, **view)


def reads(rows=None, stock_left=None, caught_up=True, fail=None, faults=(), seconds=1.0):
    r = ReadResults()
    if rows is not None:
        r.put("persisted", Table.from_records(rows, "test"))
    if stock_left is not None:
        r.put("stock_left", stock_left)
    for role, why in (fail or {}).items():
        r.fail(role, why)
    r.observations["catch_up"] = CatchUp(0.0, caught_up=caught_up, seconds=seconds if caught_up else None,
                                         waited_s=1.0, reason="" if caught_up else "backlog 3, draining at 1.0/s",
                                         faults=list(faults), state="" if caught_up else "draining", backlog=None)
    return r


def check(name, h, r, params=None):
    return run_isolated(INVARIANTS[name], h, r, params or {})


def rows_of(*pairs):
    return [{"key": k, "id": i} for k, i in pairs]


# --- no_data_loss ------------------------------------------------------------------------------------
def test_acked_and_missing_is_lost_and_unknown_outcomes_are_never_lost():
    h = history([("a", OK, "1"), ("b", OK, "2"), ("c", INFO, None), ("d", INFO, None)])
    result = check("no_data_loss", h, reads(rows_of(("a", "1"), ("c", "3"))))
    assert (result.status, result.figure) == ("invalid", 1)
    assert result.evidence["lost"] == ["b"] and result.evidence["recovered"] == ["c"]


def test_an_acknowledged_id_that_was_not_kept_is_lost_even_when_its_key_was():
    h = history([("k", OK, "first"), ("k", OK, "second")])
    result = check("no_data_loss", h, reads(rows_of(("k", "first"))))
    assert (result.status, result.figure) == ("invalid", 1)
    assert result.evidence["lost_ids"] == ["k -> second"]


def test_kept_but_never_attempted_or_definitely_failed_is_unexpected():
    h = history([("a", OK, "1"), ("f", FAIL, None)])
    result = check("no_data_loss", h, reads(rows_of(("a", "1"), ("ghost", "9"), ("f", "8"))))
    assert result.status == "invalid" and result.figure == 0
    assert sorted(result.evidence["unexpected"]) == ["f", "ghost"]


def test_nothing_acknowledged_is_never_a_pass():
    assert check("no_data_loss", history([("a", FAIL, None)]), reads([])).status == "unknown"


def test_rows_of_a_lost_load_generator_are_recovered_not_unexpected():
    h = history([("aaaa1111-x", OK, "1")], source="w1", lost_tags={"bbbb2222"}, known_tags={"aaaa1111", "bbbb2222"})
    result = check("no_data_loss", h, reads(rows_of(("aaaa1111-x", "1"), ("bbbb2222-y", "2"))))
    assert result.status == "valid" and result.evidence["kept_from_lost_generators"] == ["bbbb2222-y"]
    untagged = check("no_data_loss", h, reads(rows_of(("aaaa1111-x", "1"), ("someone-else", "3"))))
    assert untagged.status == "unknown" and untagged.evidence["unattributed"] == ["someone-else"]


def test_an_unreadable_read_makes_only_that_invariant_unknown():
    h = history([("a", OK, "1")], values={"stock": 1})
    r = reads(fail={"persisted": "relation \"nope\" does not exist"}, stock_left=0)
    loss = check("no_data_loss", h, r)
    assert loss.status == "unknown" and "relation" in loss.summary
    assert check("catch_up", h, r, {"max": 30.0}).status == "valid"


def test_a_checker_that_raises_is_unknown_not_a_crash():
    @register("explodes")
    def explodes(history, reads, params):
        raise ZeroDivisionError("boom")
    result = check("explodes", history([("a", OK, "1")]), reads([]))
    assert result.status == "unknown" and "ZeroDivisionError: boom" in result.summary
    del INVARIANTS["explodes"]


# --- no_duplicates -----------------------------------------------------------------------------------
def test_duplicates_count_keys_kept_twice_and_keys_acknowledged_with_two_ids():
    h = history([("a", OK, "1"), ("b", OK, "2"), ("c", OK, "3"), ("c", OK, "4"), ("d", OK, "5"), ("d", OK, "5")])
    result = check("no_duplicates", h, reads(rows_of(("a", "1"), ("a", "1"), ("b", "2"), ("c", "3"), ("d", "5"))))
    assert (result.status, result.figure) == ("invalid", 2)
    assert result.evidence["kept_more_than_once"] == {"a": 2}
    assert result.evidence["acknowledged_with_several_ids"] == ["c"]


def test_two_ids_for_one_key_decide_duplicates_even_without_rows():
    h = history([("c", OK, "3"), ("c", OK, "4")])
    result = check("no_duplicates", h, reads(fail={"persisted": "down"}))
    assert (result.status, result.figure) == ("invalid", 1)


# --- no_oversell (conservation) ----------------------------------------------------------------------
def test_conservation_from_the_scenario_value():
    h = history([("a", OK, "1"), ("b", OK, "2")], values={"stock": 5})
    assert check("no_oversell", h, reads(rows_of(("a", "1"), ("b", "2")), stock_left=3)).status == "valid"
    leaked = check("no_oversell", h, reads(rows_of(("a", "1"), ("b", "2")), stock_left=2))
    assert (leaked.status, leaked.figure) == ("invalid", 1) and "never kept" in leaked.summary
    oversold = check("no_oversell", h, reads(rows_of(*[(str(i), str(i)) for i in range(7)]), stock_left=0))
    assert (oversold.status, oversold.figure) == ("invalid", 2)
    assert check("no_oversell", h, reads(rows_of(("a", "1")), stock_left=-1)).status == "invalid"


def test_conservation_not_caught_up_reports_what_it_saw():
    h = history([("a", OK, "1"), ("b", OK, "2")], values={"stock": 5})
    in_flight = check("no_oversell", h, reads(rows_of(("a", "1")), stock_left=3, caught_up=False))
    assert in_flight.status == "unknown" and "1 kept + 3 left = 4 of 5" in in_flight.summary
    too_many = check("no_oversell", h, reads(rows_of(("a", "1"), ("b", "2")), stock_left=4, caught_up=False))
    assert (too_many.status, too_many.figure) == ("invalid", 1)


def test_conservation_needs_its_initial_value():
    h = history([("a", OK, "1")], values={})
    result = check("no_oversell", h, reads(rows_of(("a", "1")), stock_left=0))
    assert result.status == "unknown" and "no value 'stock'" in result.summary


# --- catch_up ----------------------------------------------------------------------------------------
def test_catch_up_per_fault_and_overall():
    h = history([("a", OK, "1")])
    assert check("catch_up", h, reads([], seconds=2.0), {"max": 30.0}).status == "valid"
    assert check("catch_up", h, reads([], seconds=31.0), {"max": 30.0}).status == "invalid"
    slow = check("catch_up", h, reads([], faults=[{"name": "k", "backlog_at_heal": 9, "drained_s": None}]),
                 {"max": 30.0})
    assert slow.status == "invalid" and "k's backlog never drained" in slow.summary
    assert check("catch_up", h, reads([], caught_up=False), {"max": 30.0}).status == "invalid"


# --- per_key_order -----------------------------------------------------------------------------------
def seq_history(ops):
    """ops: (key, seq, invoke, complete) all acknowledged."""
    return history([(k, OK, f"{k}:{s}", s, t0, t1) for k, s, t0, t1 in ops])


def test_per_key_order_follows_real_time_only():
    h = seq_history([("k", 0, 0.0, 1.0), ("k", 1, 2.0, 3.0), ("k", 2, 4.0, 5.0), ("j", 0, 0.0, 9.0), ("j", 1, 0.5, 2.0)])
    kept = [{"key": "k", "seq": 0}, {"key": "j", "seq": 1}, {"key": "k", "seq": 2}, {"key": "k", "seq": 1},
            {"key": "j", "seq": 0}]
    result = check("per_key_order", h, reads(kept))
    # k: 2 kept before 1 although 1 was acknowledged before 2 was sent; j's publishes overlapped: any order.
    assert (result.status, result.figure) == ("invalid", 1)
    assert result.evidence["out_of_order"] == ["k: seq 2 kept before seq 1, though 1 was acknowledged before 2 was sent"]


def test_per_key_order_counts_gaps_as_loss():
    h = seq_history([("k", 0, 0.0, 1.0), ("k", 1, 2.0, 3.0)])
    result = check("per_key_order", h, reads([{"key": "k", "seq": 0}]))
    assert (result.status, result.figure) == ("invalid", 1) and result.evidence["gaps"] == ["k#1"]


def test_per_key_order_with_nothing_kept_is_every_seq_missing_not_undecided():
    h = seq_history([("k", 0, 0.0, 1.0), ("k", 1, 2.0, 3.0), ("j", 0, 0.0, 1.0)])
    r = reads()
    r.put("persisted", Table({"key": np.zeros(0, np.int64), "seq": np.zeros(0, np.int64)}))  # as SQL answers
    result = check("per_key_order", h, r)
    assert (result.status, result.figure) == ("invalid", 2) and sorted(result.evidence["gaps"]) == ["j#0", "k#0", "k#1"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_sequential_publishes_kept_in_order_always_pass_and_any_swap_fails(lengths, rnd):
    ops, kept = [], []
    t = 0.0
    for k, n in enumerate(lengths):
        for s in range(n):
            ops.append((f"k{k}", s, t, t + 0.5))
            kept.append({"key": f"k{k}", "seq": s})
            t += 1.0
    rnd.shuffle(kept)  # interleave keys; then restore each key's own order
    per_key = {}
    for row in kept:
        per_key.setdefault(row["key"], []).append(row)
    for rows in per_key.values():
        for row, s in zip(rows, sorted(r["seq"] for r in rows)):
            row["seq"] = s
    assert check("per_key_order", seq_history(ops), reads(kept)).status == "valid"
    longest = max(per_key.values(), key=len)
    if len(longest) > 1:
        longest[0]["seq"], longest[1]["seq"] = longest[1]["seq"], longest[0]["seq"]
        assert check("per_key_order", seq_history(ops), reads(kept)).status == "invalid"


# --- properties of the set analysis ------------------------------------------------------------------
keys = st.text(alphabet="abcdefgh", min_size=1, max_size=3)
ops_strategy = st.lists(st.tuples(keys, st.sampled_from([OK, FAIL, INFO]), st.sampled_from(["1", "2", None])),
                        max_size=50)


@settings(max_examples=150, deadline=None)
@given(ops_strategy, st.lists(keys, max_size=30))
def test_loss_is_exactly_acknowledged_keys_not_kept(ops, kept_keys):
    ops = [(k, o, i if o == OK else None) for k, o, i in ops]
    h = history(ops)
    result = check("no_data_loss", h, reads([{"key": k} for k in kept_keys]))
    acked = {k for k, o, _ in ops if o == OK}
    lost = acked - set(kept_keys)
    if not acked:
        assert result.status == "unknown"
    else:
        assert result.figure == len(lost)
        assert sorted(result.evidence["lost"]) == sorted(lost)
        never = set(kept_keys) - {k for k, _, _ in ops}
        failed_only = {k for k in kept_keys if all(o == FAIL for kk, o, _ in ops if kk == k)} - never
        assert (result.status == "valid") == (not lost and not never and not failed_only)


@settings(max_examples=100, deadline=None)
@given(ops_strategy)
def test_an_unknown_outcome_is_never_counted_lost(ops):
    h = history([(k, INFO, None) for k, _, _ in ops] + [("zz", OK, None)])
    result = check("no_data_loss", h, reads([{"key": "zz"}]))
    assert result.figure == 0 and result.status == "valid"
