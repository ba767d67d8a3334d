"""catch_up: after the load ends, the consumer drains this run's backlog and every acknowledged operation is
kept within `max` seconds; and after each fault's heal, the backlog that fault left drains within `max` too.

Decided whenever the backlog is readable: reached (valid, with the seconds), still draining at the bound
(invalid: "backlog N, draining at R/s"), stuck (invalid: "stuck at N for S s", with the consumers holding it),
or empty with acknowledged operations missing (invalid: they are lost). Unknown only when the backlog could
not be read. A backlog from before the run is reported and never counted.

Measured by the harness while it waits (never including its own waits for history): the overall figure runs
from the end of the load; each fault's from its heal, with the backlog just before the heal."""
from chaos_hooks.common.durations import format_duration
from chaos_hooks.invariants.registry import register
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, Result


def old_backlog_note(seen) -> str:
    before = seen.before_now if seen.before_now is not None else seen.before
    return f"backlog {before} from before this run, not counted" if before else ""


@register("catch_up", params={"max": "duration", "stuck_after": "duration"}, needs={"backlog": "value"})
def catch_up(history, reads, params) -> Result:
    bound = params.get("max", 30.0)
    seen = reads.observation("catch_up")
    per_fault = [f for f in seen.faults if f.get("backlog_at_heal") is not None]
    slow = [f for f in per_fault if f.get("drained_s") is None or f["drained_s"] > bound]
    evidence = {"bound_s": bound, "since": "end of load", "waited_s": round(seen.waited_s, 3),
                "faults": per_fault, "reason": seen.reason, "state": seen.state or "reached",
                "backlog": seen.backlog, "holders": list(seen.holders), "backlog_before_run": seen.before,
                "rate_per_s": round(seen.rate, 3)}
    fault_text = "; ".join(
        f"after {f['name']}: backlog {f['backlog_at_heal']} "
        + (f"drained in {f['drained_s']:.2f}s" if f.get("drained_s") is not None else "never drained")
        for f in per_fault)
    tail = "".join(f"; {t}" for t in (fault_text, old_backlog_note(seen)) if t)
    if seen.seconds is None:
        if seen.unreadable:
            return Result("catch_up", UNKNOWN, f"undecided within {seen.waited_s:.1f}s of waiting ({seen.reason})"
                          + tail, figure=None, evidence=evidence)
        figure = seen.backlog if seen.state in ("stuck", "draining") else seen.missing
        return Result("catch_up", INVALID, f"did not catch up within {format_duration(bound)}: {seen.reason}"
                      + tail, figure=figure, evidence=evidence)
    if seen.seconds > bound or slow:
        why = [f"caught up {seen.seconds:.2f}s after the load ended (bound {format_duration(bound)})"]
        why += [f"{f['name']}'s backlog " + (f"took {f['drained_s']:.2f}s" if f.get("drained_s") is not None
                                               else "never drained") for f in slow]
        return Result("catch_up", INVALID, "; ".join(why), figure=round(seen.seconds, 3), evidence=evidence)
    summary = f"caught up {seen.seconds:.2f}s after the load ended (bound {format_duration(bound)})"
    return Result("catch_up", VALID, summary + tail, figure=round(seen.seconds, 3), evidence=evidence)
