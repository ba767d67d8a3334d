"""catch_up: seconds from the last heal (or end of load, if later) until the consumer has no lag,
nothing pending, and every acknowledged order is persisted."""
from ..durations import format_duration
from .base import Result


def catch_up(analysis, state, params) -> Result:
    bound = params.get("max", 30.0)
    if state.catch_up_s is None:
        return Result("catch_up", False, f"did not catch up within {state.catch_up_waited_s:.1f}s of waiting "
                                         f"({state.catch_up_reason})", figure=None,
                      evidence={"bound_s": bound, "waited_s": state.catch_up_waited_s})
    passed = state.catch_up_s <= bound
    return Result("catch_up", passed, f"caught up in {state.catch_up_s:.2f}s (bound {format_duration(bound)})",
                  figure=round(state.catch_up_s, 3), evidence={"bound_s": bound})
