"""The compact shipping of the history: every string column comes back as it went (hex-packed, joined or as a
list, with missing values), and a history shipped in many batches while operations are in flight reaches the
master complete, each operation once."""
from hypothesis import given, settings
from hypothesis import strategies as st

from chaos_hooks.history import INFO, OK, Recorder, batch_codec
from chaos_hooks.history.recorder import decode_batch
from chaos_hooks.history.store import HistoryStore

TEXT = st.text(alphabet=st.sampled_from("abcdef0123456789ABCDEF-x\0é"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), TEXT), max_size=20))
def test_any_column_decodes_to_itself(values):
    encoded = batch_codec.encode(values)
    assert batch_codec.decode(encoded, len(values)) == values


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=4, max_size=4), min_size=1, max_size=20), st.sampled_from(["k-", "", "ab-"]))
def test_prefixed_hex_columns_pack_to_raw_bytes(tails, prefix):
    values = [prefix + t.hex() for t in tails]
    encoded = batch_codec.encode(values)
    assert encoded[0] == "h" and encoded[-1] == b"".join(tails)
    assert batch_codec.decode(encoded, len(values)) == values


def test_new_keys_ship_as_16_bytes_each():
    rec = Recorder()
    rec.reset("r")
    keys = [rec.new_key() for _ in range(100)]
    assert len(set(keys)) == 100
    encoded = batch_codec.encode(keys)
    assert encoded[0] == "h" and len(encoded[3]) == 16 * 100


def test_a_history_shipped_while_ops_are_in_flight_arrives_whole_and_once():
    rec = Recorder()
    rec.reset("r")
    store = HistoryStore()
    open_ops = []
    for i in range(50):
        open_ops.append(rec.operation("order", f"k{i}", seq=i if i % 3 else None))
        if i % 2:
            with open_ops.pop(0) as op:
                op.ok(id=f"id-{i}", status=202)
        if i % 7 == 0:
            store.add("w1", rec.take_completed())
    last = rec.take_all()
    late = open_ops[0]
    late.__exit__(None, None, None)  # completes after the final flush: already counted as unknown, not again
    store.add("w1", last, final_total=rec.total_shipped)
    assert rec.take_completed() is None and store.complete({"w1"})
    records = list(store.iter_records())
    assert sorted(r["key"] for r in records) == sorted(f"k{i}" for i in range(50))
    by_key = {r["key"]: r for r in records}
    assert by_key[late.key]["outcome"] == "info" and by_key[late.key]["id"] is None
    acked = [r for r in records if r["outcome"] == "ok"]
    assert acked and all(r["status"] == 202 and r["id"].startswith("id-") for r in acked)
    assert all(r["complete"] >= r["invoke"] for r in records)
    assert [r.get("seq") for r in sorted(records, key=lambda r: int(r["key"][1:]))] == \
        [i if i % 3 else None for i in range(50)]


def test_decode_batch_gives_plain_columns():
    rec = Recorder()
    rec.reset("r")
    with rec.operation("a", "x") as op:
        op.ok(id=7)
    rec.operation("b", "y")
    batch = decode_batch(rec.take_all())
    assert batch["name"] == ["a", "b"] and batch["key"] == ["x", "y"] and batch["id"] == ["7", None]
    assert batch["outcome"] == bytes([OK, INFO]) and batch["seq"] is None
