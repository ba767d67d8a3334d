"""Deciding a probe's expectations from its samples and the faults' windows (a pure function, like an
invariant): valid, invalid (with the first sample that broke it), or unknown (no sample where one was needed).

    before   every sample before the first fault's injection holds
    always   every sample holds
    during   in each window of the fault, a sample holds within `within` (default: the window) and the value
             keeps holding until the heal; the figure is the longest time to get there
    after    after each heal of the fault, a sample holds within `within` (default: until sampling ended) and
             keeps holding until sampling ends or another fault starts
"""
from chaos_hooks.invariants import INVALID, UNKNOWN, VALID, Result


def _windows(records, group: str) -> list[tuple[float, float | None]]:
    return [(r["injected_at"], r["healed_at"]) for r in records if r["group"] == group and r["injected_at"]]


def _reach_and_hold(samples, test, start: float, deadline: float, end: float, sampled_until: float):
    """(seconds to reach, None) or (None, why): the test reaches holding by `deadline` and holds until `end`."""
    inside = [(t, v) for t, v in samples if start <= t < end]
    if not inside:
        return None, "no sample"
    reached = None
    for t, v in inside:
        if test.holds(v):
            if reached is None:
                reached = t
        elif reached is not None:
            return None, f"{v} at +{t - start:.2f}s after holding from +{reached - start:.2f}s"
    if reached is None or reached > deadline:
        if sampled_until < deadline:
            return None, "no sample"
        last = inside[-1][1]
        return None, f"not {test} within {deadline - start:.1f}s (last {last})"
    return reached - start, None


def _every(samples, test, start: float, end: float):
    bad = next(((t, v) for t, v in samples if start <= t < end and not test.holds(v)), None)
    if not any(start <= t < end for t, _ in samples):
        return None, "no sample"
    return (0.0, None) if bad is None else (None, f"{bad[1]} at +{bad[0] - start:.2f}s")


def evaluate(probe, samples, records, run_start: float, sampled_until: float) -> Result:
    injections = sorted(r["injected_at"] for r in records if r["injected_at"])
    first_fault = injections[0] if injections else sampled_until
    parts, status, figure, evidence = [], VALID, 0.0, {"samples": len(samples), "expectations": []}
    for e in probe.expect:
        outcomes = []  # (seconds, why) per window
        if e.phase == "before":
            outcomes.append(_every(samples, e.test, run_start, first_fault))
        elif e.phase == "always":
            outcomes.append(_every(samples, e.test, run_start, sampled_until))
        else:
            windows = _windows(records, e.fault)
            if not windows:
                outcomes.append((None, f"fault {e.fault} never ran"))
            for injected, healed in windows:
                if e.phase == "during":
                    end = healed or sampled_until
                    deadline = min(end, injected + e.within) if e.within is not None else end
                    outcomes.append(_reach_and_hold(samples, e.test, injected, deadline, end, sampled_until))
                elif healed is None:
                    outcomes.append((None, f"fault {e.fault} was never healed"))
                else:
                    later = [t for t in injections if t > healed]
                    end = later[0] if later else sampled_until
                    deadline = healed + e.within if e.within is not None else end
                    outcomes.append(_reach_and_hold(samples, e.test, healed, deadline, end, sampled_until))
        label = f"{e.phase}{' ' + e.fault if e.fault else ''}: {e.test}"
        problems = [why for seconds, why in outcomes if why is not None]
        evidence["expectations"].append({"expect": label, "seconds": [s for s, _ in outcomes], "problems": problems})
        if any(why != "no sample" for why in problems):
            status = INVALID
            parts.append(f"{label} broken: {next(w for w in problems if w != 'no sample')}")
        elif problems:
            status = UNKNOWN if status == VALID else status
            parts.append(f"{label}: undecided (no sample in its window)")
        else:
            reached = max(s for s, _ in outcomes)
            figure = max(figure, reached)
            parts.append(f"{label}" + (f" after {reached:.2f}s" if e.phase in ("during", "after") else ""))
    return Result(f"probe:{probe.name}", status, "; ".join(parts), figure=round(figure, 3), evidence=evidence)
