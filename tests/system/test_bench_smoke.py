"""The verification benchmark keeps working (its figures are for `make bench`, never asserted here)."""
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
