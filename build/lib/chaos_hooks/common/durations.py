"""Durations as scenario files and flags write them: 5s, 250ms, 2m, 1h, or a number of seconds."""
import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# ASCII digits only: str.isdigit() and \d accept full-width and other scripts' digits ("５s").
_PATTERN = re.compile(r"^[ ]*([0-9]+(?:\.[0-9]+)?)[ ]*(ms|s|m|h)?[ ]*$", re.ASCII)
WEEK_S = 7 * 24 * 3600.0


def parse_duration(value, *, allow_zero: bool = False, limit: float = WEEK_S) -> float:
    """Seconds, finite, > 0 (or >= 0 with allow_zero) and below `limit`; ValueError says what is accepted."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        seconds = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration (use e.g. 5s, 250ms, 2m, 1h or seconds as a number)")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        raise ValueError(f"{value!r} is not a duration (use e.g. 5s, 250ms, 2m, 1h)")
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a finite duration")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(f"{value!r}: must be more than 0" if not allow_zero else f"{value!r} is negative")
    if seconds >= limit:
        raise ValueError(f"{value!r} is too long (limit {format_duration(limit)})")
    return seconds


def format_duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    return f"{seconds:g}s"
