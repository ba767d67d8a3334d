"""Durations as scenario files and flags write them. Whatever Locust's -t takes (20, 20s, 3m, 2h, 1h30m,
3h30m10s) is read by Locust's own parser, so `locust-chaos run -t` and `locust -t` agree; beyond that, scenario
files may say 250ms or 1.5s (a number and one unit: ms, s, m, h), or give a plain number of seconds."""
import importlib.util
import math
import os
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# ASCII digits only: str.isdigit(), \d and int() accept full-width and other scripts' digits ("５s").
_ONE_UNIT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)[ ]*(ms|s|m|h)?$", re.ASCII)
WEEK_S = 7 * 24 * 3600.0
FORMS = "e.g. 90, 90s, 1m30s, 1h30m, 250ms, 1.5s"
_locust_parse = None


def locust_parse_timespan():
    """locust.util.timespan.parse_timespan, loaded from its file: importing the `locust` package would
    monkey-patch the process for gevent (the CLI process must stay unpatched), and this one module needs only
    `re` and `datetime`. find_spec of a top-level package locates it without running it."""
    global _locust_parse
    if _locust_parse is None:
        spec = importlib.util.find_spec("locust")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("the locust package is not installed")
        path = os.path.join(list(spec.submodule_search_locations)[0], "util", "timespan.py")
        module_spec = importlib.util.spec_from_file_location("_chaos_locust_timespan", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        _locust_parse = module.parse_timespan
    return _locust_parse


def _from_text(value: str) -> float:
    text = value.strip(" ")
    if not text or not text.isascii():
        raise ValueError(f"{value!r} is not a duration ({FORMS})")
    try:
        return float(locust_parse_timespan()(text))
    except OverflowError:
        return math.inf
    except ValueError:
        pass
    match = _ONE_UNIT.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a duration ({FORMS})")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def parse_duration(value, *, allow_zero: bool = False, limit: float = WEEK_S) -> float:
    """Seconds, finite, > 0 (or >= 0 with allow_zero) and below `limit`; ValueError says what is accepted."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        seconds = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str):
        seconds = _from_text(value)
    else:
        raise ValueError(f"{value!r} is not a duration ({FORMS})")
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
