"""The benchmarks keep working with tiny sizes: each ends with its `NAME: number` line (their figures are for
`make bench`, never asserted here)."""
import re
import subprocess
import sys

from helpers import ROOT


def test_verify_history_benchmark_runs_small():
    out = subprocess.run([sys.executable, "bench/verify_history.py", "3000"], cwd=ROOT, capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(r"verify 3000 ops: [0-9.]+ s \(median of 3\), peak [0-9]+ MB", lines[-1]), lines[-1]
    assert sum(line.startswith("harness") and "lost 0 of 3000 acknowledged" in line for line in lines) == 3


def last_line_of(args: list[str], timeout: float) -> str:
    out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, (out.stdout + out.stderr)[-2000:]
    return out.stdout.strip().splitlines()[-1]


NUMBER = r"[0-9]+(\.[0-9]+)?"


def test_master_ingest_benchmark_runs_small():
    out = subprocess.run([sys.executable, "bench/master_ingest.py", "--ops", "3000", "--workers", "3,30",
                          "--rounds", "1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(f"master_ingest_ops_per_s: {NUMBER}", lines[-2]), lines[-2]
    assert re.fullmatch(f"master_bytes_per_op: {NUMBER}", lines[-1]), lines[-1]


def test_fault_clock_benchmark_runs_small():
    line = last_line_of(["bench/fault_clock.py", "--faults", "20", "--seconds", "1", "--rounds", "1"], 60)
    assert re.fullmatch(f"fault_skew_p99_ms: {NUMBER}", line), line


def test_harness_overhead_benchmark_runs_small():
    line = last_line_of(["bench/harness_overhead.py", "--rounds", "1", "--seconds", "2", "--users", "2"], 240)
    assert re.fullmatch(f"harness_overhead_ratio: {NUMBER}", line), line


def test_verify_history_growth_table_runs_small():
    line = last_line_of(["bench/verify_history.py", "--sizes", "1000,2000"], 120)
    assert re.fullmatch(f"verify_history_s: {NUMBER}", line), line


def test_heal_time_benchmark_runs_small():
    out = subprocess.run([sys.executable, "bench/heal_time.py", "--rounds", "1", "--ctrl-c-rounds", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, (out.stdout + out.stderr)[-2000:]
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(f"heal_p95_s: {NUMBER}", lines[-2]), lines[-2]
    assert re.fullmatch(f"heal_all_s: {NUMBER}", lines[-1]), lines[-1]
    assert re.fullmatch(r"goal heal_all_s <= 1 s: (met|not met) \([0-9.]+ s\)", lines[-3]), lines[-3]
    # every kind the harness heals has its row, the container row measured or its absence explained
    for row in ("process.kill", "process.term", "process.pause", "datastore.outage redis",
                "datastore.outage postgresql", "network.latency", "network.down", "container"):
        assert any(line.startswith(row) for line in lines), row
