"""The run's report directory: verdict.json, evidence.json, faults.json, history.jsonl."""
import json
import math
import os
import time


def default_report_dir(scenario_name: str, base: str = "reports/chaos") -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return os.path.join(base, f"{scenario_name}-{stamp}")


def check_writable(report_dir: str) -> None:
    """Raises ScenarioError (exit 2) when the report directory cannot be created or written."""
    from chaos_hooks.common.errors import ScenarioError
    try:
        os.makedirs(report_dir, exist_ok=True)
        probe = os.path.join(report_dir, ".write-test")
        with open(probe, "w") as f:
            f.write("")
        os.remove(probe)
    except OSError as err:
        raise ScenarioError(f"--report-dir {report_dir}: not writable: {err.strerror or err}") from None


def write_report(report_dir: str, verdict: dict, evidence: dict, store) -> str:
    """verdict.json, evidence.json, faults.json, junit.xml, report.html and history.jsonl."""
    from chaos_hooks.report import html, junit, timeseries
    os.makedirs(report_dir, exist_ok=True)
    verdict, evidence = _clean(verdict), _clean(evidence)
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
    with open(tmp, "w") as f:
        f.write('# one operation a line: op, key, [seq], outcome (ok|fail|info), id, status, invoke, complete, '
                'source\n')
        for record in store.iter_records():
            f.write(json.dumps(record) + "\n")
    os.replace(tmp, os.path.join(report_dir, "history.jsonl"))
    return report_dir


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
