"""The run's report directory: verdict.json, evidence.json, faults.json, history.jsonl and a README.md that says
what each file holds and what history.jsonl's fields mean."""
import json
import math
import os
import time
import uuid

from chaos_hooks.common import secrets


def default_report_dir(scenario_name: str, base: str = "reports/chaos") -> str:
    """Unique: the UTC time and a fresh run id, so two runs never share (or overwrite) a report."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return os.path.join(base, f"{scenario_name}-{stamp}-{uuid.uuid4().hex[:8]}")


def unused_report_dir(report_dir: str) -> str:
    """report_dir, or a sibling with a fresh run id when it already holds a run's report (never overwritten)."""
    if os.path.exists(os.path.join(report_dir, "verdict.json")):
        return f"{report_dir.rstrip('/')}-{uuid.uuid4().hex[:8]}"
    return report_dir


def check_writable(report_dir: str) -> None:
    """Raises ScenarioError (exit 2) when the report directory cannot be created or written."""
    from chaos_hooks.common.errors import ScenarioError
    if os.path.exists(os.path.join(report_dir, "verdict.json")):
        raise ScenarioError(f"--report-dir {report_dir}: holds an earlier run's report; a report is never "
                            f"overwritten (pick another directory, or leave --report-dir out)")
    try:
        os.makedirs(report_dir, mode=0o700, exist_ok=True)
        probe = os.path.join(report_dir, ".write-test")
        with open(probe, "w") as f:
            f.write("")
        os.remove(probe)
    except OSError as err:
        raise ScenarioError(f"--report-dir {report_dir}: not writable: {err.strerror or err}") from None


def write_report(report_dir: str, verdict: dict, evidence: dict, store) -> str:
    """verdict.json, evidence.json, faults.json, junit.xml, report.html and history.jsonl."""
    from chaos_hooks.report import html, junit, timeseries
    os.makedirs(report_dir, mode=0o700, exist_ok=True)
    verdict, evidence = secrets.mask(_clean(verdict)), secrets.mask(_clean(evidence))
    _dump(os.path.join(report_dir, "verdict.json"), verdict)
    _dump(os.path.join(report_dir, "evidence.json"), evidence)
    _dump(os.path.join(report_dir, "faults.json"), verdict.get("faults", []))
    _write(os.path.join(report_dir, "junit.xml"), junit.render(verdict))
    start = verdict.get("started_at") or 0.0
    series = timeseries.per_second(store.columns(), start, verdict.get("load_ended_at") or start) if start else \
        timeseries.per_second(store.columns(), 0.0, 0.0)
    _write(os.path.join(report_dir, "report.html"),
           html.render(verdict, evidence, series, timeseries.windows(verdict.get("faults", []))).encode())
    tmp = os.path.join(report_dir, "history.jsonl.tmp")
    with open(tmp, "w") as f:  # JSONL from its first line: what the fields mean is in README.md beside it
        for record in store.iter_records():
            f.write(secrets.mask_text(json.dumps(record)) + "\n")
    os.replace(tmp, os.path.join(report_dir, "history.jsonl"))
    _write(os.path.join(report_dir, "README.md"), README.encode())
    _owner_only(report_dir)
    return report_dir


def _owner_only(report_dir: str) -> None:
    """The report may describe the target in detail: the directory 0700, its files 0600."""
    os.chmod(report_dir, 0o700)
    for name in os.listdir(report_dir):
        path = os.path.join(report_dir, name)
        if os.path.isfile(path) and not os.path.islink(path):
            os.chmod(path, 0o600)


# The fields of history.jsonl, one per "- `name`" line (tests/unit/test_report_files.py reads this list).
README = """\
# A locust-chaos report

- `verdict.json`: the verdict: overall `status` (valid, invalid, unknown), each invariant's status, summary and
  figure, history counts, faults with their times, seeds, phases, harness problems.
- `evidence.json`: what each invariant found (keys lost, duplicated, ...).
- `faults.json`: the faults of the run, when each was injected and healed (seconds since the start).
- `junit.xml`: one testcase per invariant, for CI.
- `report.html`: the verdict and charts in one page that opens from disk.
- `history.jsonl`: every operation the users recorded, one JSON object per line (no header line).

## history.jsonl

Each line is one operation, in the order the master received them:

- `op`: the operation's name, as the locustfile recorded it (`history.operation(name, key)`)
- `key`: the operation's key (one element of the checked set; tagged with the load generator that made it)
- `seq`: the operation's sequence number within its key, when the locustfile gave one (absent otherwise)
- `outcome`: `ok` (acknowledged), `fail` (refused: definitely not done) or `info` (unknown outcome: timeout, 5xx,
  reset; never counted as lost)
- `id`: what the system answered as the operation's identity (e.g. an order id), or null
- `status`: the HTTP status (or the protocol's code), or null when none came back
- `invoke`: when the operation started, seconds since the Unix epoch (UTC), microsecond precision
- `complete`: when its outcome was known, seconds since the Unix epoch, or null if it never completed
- `source`: the load generator that recorded it (`local`, or a worker's id)
"""


def _clean(value):
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _write(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _dump(path: str, data) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(_clean(data), f, indent=2, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)
