"""Verification at scale: N acknowledged operations against N rows kept in a real PostgreSQL, through the code a
verdict uses (the master's HistoryStore, the `sql` read by COPY, the set analysis, no_data_loss and
no_duplicates), side by side with the plain-Python way (lists of ops, psycopg rows, Python sets).

    python bench/verify_history.py N                 # one size, both ways (the smoke test runs 3000)
    python bench/verify_history.py [--sizes 1M,3M,10M] [--rounds 1]   # the harness's way at each size (default)

With one N, each way runs in its own process, so its peak memory (ru_maxrss) is its own; the history arrives as the
batches load generators ship (msgpack, 1,000 ops each) read from a file prepared beforehand. The harness's way
runs three times; the last line is `verify N ops: S s (median of 3), peak M MB`. With --sizes (what `make bench`
runs) the harness's way runs at each size, so that time and peak memory show how they grow; the last line is
`verify_history_s: S` for the largest size.
"""
import argparse
import hashlib
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import msgpack
import psycopg

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from chaos_hooks.history import batch_codec  # noqa: E402
from chaos_hooks.history.recorder import decode_batch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BATCH = 1000
ROUNDS = 3
QUERY = "SELECT idempotency_key AS key, order_id AS id FROM orders WHERE product_id = %(product)s"


def key_of(i: int) -> str:
    return hashlib.md5(b"k%d" % i).hexdigest()


def id_of(i: int) -> str:
    return hashlib.md5(b"i%d" % i).hexdigest()


def prepare(n: int, url: str, history_path: str) -> None:
    """N kept rows in PostgreSQL and N acknowledged operations as shipped batches."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (order_id text, idempotency_key text, product_id text)")
        with conn.cursor().copy("COPY orders (order_id, idempotency_key, product_id) FROM STDIN") as copy:
            for start in range(0, n, 100_000):
                copy.write("".join(f"{id_of(i)}\t{key_of(i)}\tp1\n" for i in range(start, min(n, start + 100_000))))
        conn.execute("CREATE INDEX ON orders (product_id)")
        conn.execute("VACUUM ANALYZE orders")
    now = time.time()
    with open(history_path, "wb") as f:
        for start in range(0, n, BATCH):
            count = min(BATCH, n - start)
            f.write(msgpack.packb({  # as history.Recorder ships it
                "n": count, "names": ["order"], "name": bytes(count),
                "key": batch_codec.encode([key_of(i) for i in range(start, start + count)]),
                "id": batch_codec.encode([id_of(i) for i in range(start, start + count)]), "outcome": bytes(count),
                "status": (202).to_bytes(2, "little") * count, "seq": None,
                "t0": struct.pack("<d", now - 0.01) * count, "dt": struct.pack("<f", 0.01) * count}))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def harness_way(url: str, history_path: str) -> None:
    import numpy  # noqa: F401  (imported before timing, as on a master that has been running)
    from chaos_hooks.datastores.connections import Datastores
    from chaos_hooks.history.store import HistoryStore
    from chaos_hooks.history.view import HistoryView
    from chaos_hooks.invariants import INVARIANTS, run_isolated
    from chaos_hooks.verify.read_results import ReadResults
    from chaos_hooks.reads import ReadContext
    from chaos_hooks.reads.sql import SqlRead
    from chaos_hooks.common.fields import Fields
    from chaos_hooks.common.safe_yaml import load_text

    doc = load_text(f"persisted: {{from: db, sql: \"{QUERY}\"}}\n", "bench")
    read = SqlRead("persisted", doc.data["persisted"], Fields(doc), ("persisted",), {"db": url})
    base = peak_mb()
    started = time.perf_counter()
    store = HistoryStore()
    with open(history_path, "rb") as f:
        for batch in msgpack.Unpacker(f, raw=False):
            store.add("worker", batch)
    ingested = time.perf_counter()
    rows = read.rows(ReadContext(Datastores({"db": url}), {"product": "p1"}, ""))
    read_done = time.perf_counter()
    history = HistoryView(store, {})
    reads = ReadResults()
    reads.put("persisted", rows)
    results = [run_isolated(INVARIANTS[name], history, reads, {}) for name in ("no_data_loss", "no_duplicates")]
    done = time.perf_counter()
    assert all(r.status == "valid" for r in results), [r.summary for r in results]
    print(f"harness    ingest {ingested - started:5.2f} s  read {read_done - ingested:5.2f} s  "
          f"analysis {done - read_done:5.2f} s  total {done - started:5.2f} s  peak {peak_mb():5.0f} MB "
          f"(interpreter and libraries {base:.0f} MB)  [{results[0].summary}]", flush=True)
    print(f"RESULT {done - started:.2f} {peak_mb():.0f}")


def python_way(url: str, history_path: str) -> None:
    """The plain way: ops as Python lists, rows from psycopg, Python sets (what the harness did before)."""
    base = peak_mb()
    started = time.perf_counter()
    ops = []
    with open(history_path, "rb") as f:
        for batch in msgpack.Unpacker(f, raw=False):
            plain = decode_batch(batch)
            ops.extend([k, i, 0] for k, i in zip(plain["key"], plain["id"]))
    ingested = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(f"COPY ({QUERY.replace('%(product)s', chr(39) + 'p1' + chr(39))}) TO STDOUT") as cp:
            rows = list(cp.rows())
    read_done = time.perf_counter()
    acked = {op[0] for op in ops if op[2] == 0}
    kept = {k for k, _ in rows}
    lost = acked - kept
    ids_lost = {op[1] for op in ops} - {i for _, i in rows}
    done = time.perf_counter()
    assert not lost and not ids_lost
    print(f"plain      ingest {ingested - started:5.2f} s  read {read_done - ingested:5.2f} s  "
          f"analysis {done - read_done:5.2f} s  total {done - started:5.2f} s  peak {peak_mb():5.0f} MB "
          f"(interpreter and libraries {base:.0f} MB)", flush=True)


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    try:
        return int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError:
        raise SystemExit(f"verify_history.py: size {text!r}: need a number such as 3000, 1M or 2.5M") from None


def harness_runs(n: int, url: str, history: str, rounds: int) -> list[list[float]]:
    results = []
    for _ in range(rounds):  # a shared 2-core machine is noisy: the median of a few fresh processes
        out = subprocess.run([sys.executable, __file__, "--harness", url, history], check=True,
                             capture_output=True, text=True).stdout
        print("\n".join(line for line in out.splitlines() if not line.startswith("RESULT")), flush=True)
        results.append([float(v) for v in out.splitlines()[-1].split()[1:]])
    return results


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("--harness", "--python"):
        (harness_way if sys.argv[1] == "--harness" else python_way)(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", help="one size, both ways, three rounds of the harness's way")
    parser.add_argument("--sizes", default="1M,3M,10M", help="sizes for the growth table (default 1M,3M,10M)")
    parser.add_argument("--rounds", type=int, default=1, help="harness rounds per size with --sizes (default 1)")
    args = parser.parse_args()
    sizes = [parse_size(args.n)] if args.n else [parse_size(v) for v in args.sizes.split(",")]
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from helpers import servers_only
    growth = []
    for n in sizes:
        stack = servers_only({"db": {"kind": "postgresql", "database": "bench"}})
        try:
            url = stack.start_servers()["db"]
            with tempfile.TemporaryDirectory(prefix="locust-chaos-bench-") as tmp:
                history = os.path.join(tmp, "history.msgpack")
                t = time.perf_counter()
                prepare(n, url, history)
                print(f"prepared {n} kept rows and {n} acknowledged ops in {time.perf_counter() - t:.1f} s "
                      f"(not measured)", flush=True)
                if args.n:
                    subprocess.run([sys.executable, __file__, "--python", url, history], check=True)
                results = harness_runs(n, url, history, ROUNDS if args.n else args.rounds)
                seconds = statistics.median(r[0] for r in results)
                peak = max(r[1] for r in results)
                growth.append((n, seconds, min(r[0] for r in results), max(r[0] for r in results), peak))
                if args.n:
                    print(f"verify {n} ops: {seconds:.2f} s (median of {ROUNDS}), peak {peak:.0f} MB")
        finally:
            stack.down()
    if args.n:
        return
    print(f"\nverification (the harness's way) by size; s median (min-max) of {args.rounds} round(s)")
    print(f"{'ops':>12}{'seconds':>24}{'s per 1M':>10}{'peak MB':>9}{'MB per 1M':>11}")
    for n, seconds, low, high, peak in growth:
        print(f"{n:>12,}{f'{seconds:.2f} ({low:.2f}-{high:.2f})':>24}{seconds / n * 1e6:>10.2f}{peak:>9.0f}"
              f"{peak / n * 1e6:>11.0f}")
    print(f"largest: {growth[-1][0]:,} ops")
    print(f"verify_history_s: {growth[-1][1]:.2f}")


if __name__ == "__main__":
    main()
