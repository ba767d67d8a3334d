"""Per-second series of a run for the charts (report.html, the web UI's Chaos tab): operations answered and
unanswered per second, p50/p99 latency of answered ones, and the unanswered share — all by send time."""
import numpy as np

from chaos_hooks.history.recorder import INFO


def per_second(cols, start: float, end: float) -> dict:
    seconds = max(int(end - start), 1)  # whole seconds: the last partial one holds only requests cut at the stop
    sent = (cols["t0"] >= start) & (cols["t0"] < start + seconds)
    bucket = np.floor(cols["t0"][sent] - start).astype(np.int64)
    answered = (cols["outcome"][sent] != INFO) & (cols["status"][sent] > 0)
    total = np.bincount(bucket, minlength=seconds)
    ok = np.bincount(bucket, weights=answered, minlength=seconds)
    latency = (cols["t1"][sent] - cols["t0"][sent]) * 1000
    p50, p99 = [None] * seconds, [None] * seconds
    order = np.argsort(bucket[answered], kind="stable")
    by_bucket, lat = bucket[answered][order], latency[answered][order]
    bounds = np.searchsorted(by_bucket, np.arange(seconds + 1))
    for s in range(seconds):
        chunk = lat[bounds[s]:bounds[s + 1]]
        if len(chunk):
            p50[s], p99[s] = round(float(np.percentile(chunk, 50)), 1), round(float(np.percentile(chunk, 99)), 1)
    return {"t": list(range(seconds)), "answered": [int(v) for v in ok], "unanswered": [int(v) for v in total - ok],
            "p50_ms": p50, "p99_ms": p99,
            "unanswered_pct": [round(100 * (t - o) / t, 1) if t else None for t, o in zip(total, ok)]}


def windows(faults: list[dict]) -> list[dict]:
    """Fault windows relative to the run's start, for shading (a fault never healed runs to the end)."""
    return [{"name": f["name"], "start": f["injected_at"], "end": f["healed_at"]}
            for f in faults if f.get("injected_at") is not None]
