"""Benchmark: the master's ingest of the history, fed as N load generators would feed it (N = 10, 100, 1,000).

Each simulated worker records its share of the operations through a real history.Recorder (keys from
new_key() with its own worker tag, ids, a mix of outcomes), ships them as transport.py does (take_completed()
every interval, then take_all() with in-flight operations and the final total), and every message goes through
Locust's own message encoding (locust.rpc.protocol.Message: msgpack). What is timed is the master's side: decode
the message and HistoryStore.add, messages arriving round-robin across workers, then the flush barrier (every
worker's final batch and total, until store.complete() holds). Rounds interleave the N values; medians (min-max).

    python bench/master_ingest.py [--ops 1000000] [--workers 10,100,1000] [--rounds 3]

Last lines: `master_ingest_ops_per_s: X` (the slowest N's median, one core) and `master_bytes_per_op: Y` (bytes
on the wire per operation, the largest N).
"""
import argparse
import gc
import os
import random
import statistics
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from locust.rpc.protocol import Message  # noqa: E402

from chaos_hooks.history import Recorder, worker_tag  # noqa: E402
from chaos_hooks.history.store import HistoryStore  # noqa: E402
from chaos_hooks.locust_plugin.transport import MSG_HISTORY  # noqa: E402
from figures import last_line, spread  # noqa: E402

BATCHES_PER_WORKER = 10
IN_FLIGHT = 3  # per worker at the final flush


def worker_messages(node: str, ops: int, run_id: str) -> tuple[list[bytes], bytes]:
    """A worker's shipped batches and its final message (in-flight ops, the total), as serialized bytes."""
    rec = Recorder()
    rec.tag = worker_tag(node)
    rec.reset(run_id)
    per_batch = max(1, (ops - IN_FLIGHT) // BATCHES_PER_WORKER)
    messages, done = [], 0
    rnd = random.Random(node)
    while done < ops - IN_FLIGHT:
        for _ in range(min(per_batch, ops - IN_FLIGHT - done)):
            with rec.operation("order", rec.new_key()) as op:
                roll = rnd.random()
                if roll < 0.9:
                    op.ok(id=uuid.UUID(int=rnd.getrandbits(128)).hex, status=202)
                elif roll < 0.95:
                    op.fail(409)
                else:
                    op.info(503)
            done += 1
        messages.append(Message(MSG_HISTORY, {"run_id": run_id, "batch": rec.take_completed()}, node).serialize())
    for _ in range(IN_FLIGHT):
        rec.operation("order", rec.new_key())
    final = Message(MSG_HISTORY, {"run_id": run_id, "batch": rec.take_all(), "final_total": rec.total_shipped},
                    node).serialize()
    return messages, final


def ingest(streams: list[list[bytes]], finals: list[bytes], nodes: list[str]) -> tuple[float, float, HistoryStore]:
    """The master's side: decode + HistoryStore.add, round-robin; then the flush barrier. (seconds, barrier s)"""
    store = HistoryStore()
    gc.collect()
    started = time.perf_counter()
    for i in range(max(map(len, streams))):
        for stream in streams:
            if i < len(stream):
                msg = Message.unserialize(stream[i])
                store.add(msg.node_id, msg.data.get("batch"), msg.data.get("final_total"))
    barrier = time.perf_counter()
    for raw in finals:
        msg = Message.unserialize(raw)
        store.add(msg.node_id, msg.data.get("batch"), msg.data.get("final_total"))
    assert store.complete(nodes)
    done = time.perf_counter()
    return done - started, done - barrier, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=1_000_000, help="operations per N (default 1,000,000)")
    parser.add_argument("--workers", default="10,100,1000", help="the N values (default 10,100,1000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    counts = [int(v) for v in args.workers.split(",")]
    prepared = {}
    for n in counts:
        t = time.perf_counter()
        nodes = [f"worker-{n}-{i}_{uuid.UUID(int=i).hex}" for i in range(n)]
        streams, finals = zip(*(worker_messages(node, args.ops // n, "run-1") for node in nodes))
        wire = sum(map(len, finals)) + sum(len(m) for s in streams for m in s)
        prepared[n] = (list(streams), list(finals), nodes, wire, (args.ops // n) * n)
        print(f"N={n}: {prepared[n][4]} ops recorded and encoded by {n} simulated workers in "
              f"{time.perf_counter() - t:.1f} s (not measured)", file=sys.stderr, flush=True)
    rates, barriers, memory = {n: [] for n in counts}, {n: [] for n in counts}, {}
    for r in range(args.rounds):
        for n in (counts if r % 2 == 0 else counts[::-1]):
            streams, finals, nodes, wire, ops = prepared[n]
            seconds, barrier, store = ingest(streams, finals, nodes)
            assert store.n == ops, (store.n, ops)
            rates[n].append(ops / seconds)
            barriers[n].append(barrier * 1000)
            cols = store.columns()
            memory[n] = (sum(a.nbytes for a in cols.values()) / ops, store._text.seek(0, 2) / ops)
            store.close()
    print(f"\nmaster ingest (decode + HistoryStore.add, one core), {args.ops:,} ops per N, {args.rounds} rounds; "
          f"median (min-max)")
    print(f"{'workers':>8}{'ops/s':>28}{'barrier ms':>24}{'wire B/op':>11}{'columns B/op':>14}{'text B/op':>11}")
    for n in counts:
        wire, ops = prepared[n][3], prepared[n][4]
        print(f"{n:>8}{spread(rates[n]):>28}{spread(barriers[n], '{:.1f}'):>24}{wire / ops:>11.1f}"
              f"{memory[n][0]:>14.1f}{memory[n][1]:>11.1f}")
    print(f"flush barrier with {counts[-1]} workers: {statistics.median(barriers[counts[-1]]):.1f} ms "
          f"(their final batches, {3} in-flight ops each, and the totals)")
    last_line("master_ingest_ops_per_s", min(statistics.median(v) for v in rates.values()), "{:.0f}")
    last_line("master_bytes_per_op", prepared[counts[-1]][3] / prepared[counts[-1]][4], "{:.1f}")


if __name__ == "__main__":
    main()
