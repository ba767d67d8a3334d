"""Availability and latency by phase: the run cut at every injection and heal, each stretch labelled by the
faults active in it (seed 001's "Redis latency" table: added latency -> p50, p99, errors)."""
import numpy as np

from chaos_hooks.history.recorder import INFO


def phases(cols, windows: list[dict], start: float, end: float) -> list[dict]:
    """windows: {name, injected_at, healed_at} in wall time, cut where the fault actually took effect and was
    gone (effective_at, effective_healed_at) when known. Operations count in the stretch they were sent in."""
    windows = [{**w, "injected_at": w.get("effective_at") or w["injected_at"],
                "healed_at": w.get("effective_healed_at") or w["healed_at"]} for w in windows]
    cuts = sorted({start, end, *(w["injected_at"] for w in windows if w["injected_at"]),
                   *(w["healed_at"] for w in windows if w["healed_at"])})
    cuts = [c for c in cuts if start <= c <= end]
    out = []
    invoke, outcome = cols["t0"], cols["outcome"]
    for lo, hi in zip(cuts, cuts[1:]):
        if hi - lo < 0.05:
            continue
        active = [w["name"] for w in windows if w["injected_at"] and w["injected_at"] <= lo
                  and (w["healed_at"] is None or w["healed_at"] >= hi)]
        sent = (invoke >= lo) & (invoke < hi)
        n = int(sent.sum())
        answered = sent & (outcome != INFO) & (cols["status"] > 0)  # a definite answer from the system
        latency = (cols["t1"][answered] - invoke[answered]) * 1000
        healed = [w for w in windows if w["healed_at"] and w["healed_at"] <= lo]
        idle = f"after {max(healed, key=lambda w: w['healed_at'])['name']}" if healed else "before faults"
        out.append({"name": " + ".join(active) if active else idle,
                    "fault": active[0] if len(active) == 1 else (active or None),
                    "start_s": round(lo - start, 3), "end_s": round(hi - start, 3), "requests": n,
                    "ok_share": round(float(answered.sum()) / n, 4) if n else None,
                    "p50_ms": round(float(np.percentile(latency, 50)), 1) if len(latency) else None,
                    "p99_ms": round(float(np.percentile(latency, 99)), 1) if len(latency) else None})
    return out
