"""no_oversell (conservation of stock): units kept never exceed the initial stock, the stock left is never
negative, and once the consumer has caught up, stock left + units kept == initial stock.

The initial stock comes from the run (the scenario value setup wrote, `initial: stock` by default), never from
a key the system keeps. Units kept are the `persisted` rows (or their `units` column); the stock left is the
`stock_left` read. Not caught up: what was seen is reported, invalid if it already breaks a bound."""
import numpy as np

from chaos_hooks.reads import as_number
from chaos_hooks.common.table import NO_VALUE
from chaos_hooks.invariants.registry import register
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, ReadUnavailable, Result


@register("no_oversell", params={"initial": "int_value"}, needs={"persisted": "rows", "stock_left": "value"})
def no_oversell(history, reads, params) -> Result:
    name = params.get("initial", "stock")
    if name not in history.values:
        raise ReadUnavailable(f"the run has no value {name!r} for the initial stock (scenario values)")
    try:
        initial = int(history.values[name])
    except (TypeError, ValueError):
        raise ReadUnavailable(f"run value {name!r} = {history.values[name]!r} is not a whole number") from None
    rows = reads.get("persisted")
    units = rows.columns.get("units")
    kept = int(rows.n if units is None else units[units != NO_VALUE].sum(dtype=np.int64))
    left = as_number(reads.get("stock_left"), "stock_left")
    try:
        seen = reads.observation("catch_up")
    except ReadUnavailable:
        seen = None
    caught_up = seen is not None and seen.caught_up
    evidence = {"initial": initial, "kept_units": kept, "stock_left": left, "caught_up": caught_up}
    problems = []
    if kept > initial:
        problems.append(f"oversold by {kept - initial}: {kept} units kept of {initial}")
    if left < 0:
        problems.append(f"stock left is negative ({left})")
    if left + kept > initial:
        problems.append(f"{left} left + {kept} kept = {left + kept}, more than the initial {initial}")
    elif caught_up and left + kept != initial:
        problems.append(f"{left} left + {kept} kept = {left + kept}, not the initial {initial}: "
                        f"{initial - left - kept} units reserved but never kept")
    figure = max(kept - initial, 0, left + kept - initial, initial - left - kept if caught_up else 0, -left)
    if problems:
        return Result("no_oversell", INVALID, "; ".join(problems), figure=figure, evidence=evidence)
    if history.acked_count() == 0:  # nothing acknowledged: a balance proves nothing
        return Result("no_oversell", UNKNOWN, f"undecided: nothing was acknowledged ({kept} kept + {left} left of "
                                              f"{initial})", figure=None, evidence=evidence)
    gap = initial - left - kept
    if not caught_up and gap:
        # The same split as no_data_loss: units queued in a stuck backlog are lost, in a draining one in flight.
        state = seen.state if seen is not None else ""
        queued = (gap if seen.backlog is None else min(gap, seen.backlog)) if state in ("stuck", "draining") else 0
        evidence.update(state=state, queued_units=queued, missing_units=gap)
        if state == "empty" or (state in ("stuck", "draining") and gap > queued):
            lost = gap if state in ("empty", "stuck") else gap - queued
            return Result("no_oversell", INVALID, f"{kept} kept + {left} left = {kept + left} of {initial}: {lost} "
                                                  f"units reserved but never kept" + (f" ({queued} of them stuck: "
                                                  f"{seen.reason})" if state == "stuck" and queued else "")
                                                  + (f"; {queued} more in flight ({seen.reason})"
                                                     if state == "draining" and queued else ""),
                          figure=lost, evidence=evidence)
        if state == "stuck":
            return Result("no_oversell", INVALID, f"{kept} kept + {left} left = {kept + left} of {initial}: {gap} "
                                                  f"units stuck in the backlog ({seen.reason})", figure=gap,
                          evidence=evidence)
        why = seen.reason if seen is not None and seen.reason else "the consumer did not catch up"
        return Result("no_oversell", UNKNOWN, f"undecided: {kept} kept + {left} left = {kept + left} of {initial}; "
                                              f"{gap} units in flight ({why})", figure=None, evidence=evidence)
    return Result("no_oversell", VALID, f"{kept} kept + {left} left = {initial} units", figure=0, evidence=evidence)
