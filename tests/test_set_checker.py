"""The set checker on hand-built histories, and its properties (hypothesis)."""
from hypothesis import given
from hypothesis import strategies as st

from chaos_hooks.history import FAIL, INFO, OK
from chaos_hooks.invariants.sets import analyse, no_data_loss, no_duplicates


def op(key, outcome):
    return [key, 0.0, 1.0, outcome, None, None, False]


def test_acked_and_missing_is_lost():
    a = analyse([op("a", OK), op("b", OK)], ["a"])
    assert a.lost == {"b"}
    result = no_data_loss(a, None, {})
    assert not result.passed and result.figure == 1 and result.evidence["lost"] == ["b"]


def test_unknown_outcome_is_never_lost_and_is_recovered_when_present():
    a = analyse([op("a", INFO), op("b", INFO), op("c", OK)], ["a", "c"])
    assert a.lost == set()
    assert a.recovered == {"a"}
    assert a.indeterminate == {"a", "b"}
    assert no_data_loss(a, None, {}).passed


def test_present_but_never_attempted_is_unexpected():
    a = analyse([op("a", OK)], ["a", "ghost"])
    assert a.unexpected == {"ghost"}
    assert not no_data_loss(a, None, {}).passed


def test_present_although_definitely_failed_is_unexpected():
    a = analyse([op("a", FAIL)], ["a"])
    assert a.unexpected == {"a"}


def test_a_retry_that_succeeds_makes_the_key_acked():
    a = analyse([op("a", INFO), op("a", OK), op("b", FAIL), op("b", INFO)], ["a"])
    assert a.acked == {"a"} and a.indeterminate == {"b"} and a.failed == set()


def test_duplicates_count_keys_persisted_twice():
    a = analyse([op("a", OK), op("b", OK)], ["a", "a", "a", "b"])
    result = no_duplicates(a, None, {})
    assert not result.passed and result.figure == 1 and result.evidence["duplicated"] == {"a": 3}


keys = st.text(alphabet="abcdefgh", min_size=1, max_size=3)
histories = st.lists(st.tuples(keys, st.sampled_from([OK, FAIL, INFO])), max_size=60)
persisted = st.lists(keys, max_size=40)


@given(histories, persisted)
def test_counts_always_add_up(history, rows):
    a = analyse([op(k, o) for k, o in history], rows)
    c = a.counts()
    assert c["attempted"] == c["acked"] + c["failed"] + c["indeterminate"]
    assert len(a.acked & a.persisted) + c["lost"] == c["acked"]
    assert c["recovered"] <= c["indeterminate"]
    assert a.lost.isdisjoint(a.persisted) and a.lost <= a.acked
    assert not (a.indeterminate & a.lost)


@given(histories, persisted, keys)
def test_an_acked_but_missing_op_always_yields_loss(history, rows, extra):
    fresh = "zz-" + extra  # never in `rows`
    a = analyse([op(k, o) for k, o in history] + [op(fresh, OK)], rows)
    assert fresh in a.lost and len(a.lost) > 0
    assert not no_data_loss(a, None, {}).passed
