"""catch_up: after the load ends, the consumer drains its backlog and every acknowledged operation is kept
within `max` seconds; and after each fault's heal, the backlog that fault left drains within `max` too.

Measured by the harness while it waits (never including its own waits for history): the overall figure runs
from the end of the load; each fault's from its heal, with the backlog just before the heal."""
from chaos_hooks.common.durations import format_duration
from chaos_hooks.invariants.registry import register
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, Result


@register("catch_up", params={"max": "duration"}, needs={"backlog": "value"})
def catch_up(history, reads, params) -> Result:
    bound = params.get("max", 30.0)
    seen = reads.observation("catch_up")
    per_fault = [f for f in seen.faults if f.get("backlog_at_heal") is not None]
    slow = [f for f in per_fault if f.get("drained_s") is None or f["drained_s"] > bound]
    evidence = {"bound_s": bound, "since": "end of load", "waited_s": round(seen.waited_s, 3),
                "faults": per_fault, "reason": seen.reason}
    fault_text = "; ".join(
        f"after {f['name']}: backlog {f['backlog_at_heal']} "
        + (f"drained in {f['drained_s']:.2f}s" if f.get("drained_s") is not None else "never drained")
        for f in per_fault)
    if seen.seconds is None:
        status = UNKNOWN if seen.unreadable else INVALID
        summary = (f"{'undecided' if seen.unreadable else 'did not catch up'} within {seen.waited_s:.1f}s "
                   f"of waiting ({seen.reason})")
        return Result("catch_up", status, summary + (f"; {fault_text}" if fault_text else ""), figure=None,
                      evidence=evidence)
    if seen.seconds > bound or slow:
        why = [f"caught up {seen.seconds:.2f}s after the load ended (bound {format_duration(bound)})"]
        why += [f"{f['name']}'s backlog " + (f"took {f['drained_s']:.2f}s" if f.get("drained_s") is not None
                                               else "never drained") for f in slow]
        return Result("catch_up", INVALID, "; ".join(why), figure=round(seen.seconds, 3), evidence=evidence)
    summary = f"caught up {seen.seconds:.2f}s after the load ended (bound {format_duration(bound)})"
    return Result("catch_up", VALID, summary + (f"; {fault_text}" if fault_text else ""),
                  figure=round(seen.seconds, 3), evidence=evidence)
