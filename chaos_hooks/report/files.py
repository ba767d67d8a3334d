"""The run's report directory: verdict.json, evidence.json, faults.json, history.jsonl."""
import json
import os
import time


def default_report_dir(scenario_name: str, base: str = "reports/chaos") -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return os.path.join(base, f"{scenario_name}-{stamp}")


def write_report(report_dir: str, verdict: dict, evidence: dict, ops: list) -> str:
    os.makedirs(report_dir, exist_ok=True)
    _dump(os.path.join(report_dir, "verdict.json"), verdict)
    _dump(os.path.join(report_dir, "evidence.json"), evidence)
    _dump(os.path.join(report_dir, "faults.json"), verdict.get("faults", []))
    with open(os.path.join(report_dir, "history.jsonl"), "w") as f:
        f.write('# [idempotency_key, t_invoke, t_complete, outcome, order_id, status, retry]\n')
        for op in ops:
            f.write(json.dumps(op) + "\n")
    return report_dir


def _dump(path: str, data) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
