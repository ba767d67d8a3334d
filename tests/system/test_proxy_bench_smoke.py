"""The proxy overhead benchmark starts what it needs and ends with its two machine-readable lines (its figures
are for `make bench`, never asserted here beyond being real measurements)."""
import re
import subprocess
import sys

from helpers import ROOT


def test_proxy_overhead_benchmark_runs_small():
    out = subprocess.run([sys.executable, "bench/proxy_overhead.py", "--requests", "500", "--rounds", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(r"proxy_added_p50_us: -?[0-9.]+", lines[-2]), lines[-2]
    ratio = re.fullmatch(r"proxy_ratio_50_clients: ([0-9.]+)", lines[-1])
    assert ratio and 0 < float(ratio.group(1)) < 10, lines[-1]  # both sides served requests
    assert any(line.startswith("50 clients SET req/s") for line in lines)
