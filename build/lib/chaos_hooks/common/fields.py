"""Typed reading of a located document: every wrong field is one ScenarioError `file:line: dotted.path: why`."""
import math

from chaos_hooks.common.durations import parse_duration
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.common.safe_yaml import Located

INT64_MAX = 2 ** 63 - 1
MISSING = object()


class Fields:
    def __init__(self, doc: Located):
        self.doc = doc
        self.source = doc.source

    # --- errors --------------------------------------------------------------------------------------
    def where(self, path: tuple) -> str:
        line = self.doc.line(path)
        return f"{self.source}:{line}" if line else self.source

    def fail(self, path: tuple, message: str):
        dotted = ".".join(str(p) for p in path) or "(top level)"
        raise ScenarioError(f"{self.where(path)}: {dotted}: {message}")

    # --- containers ----------------------------------------------------------------------------------
    def mapping(self, value, path: tuple, allowed: set | None = None, what: str = "a mapping") -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"expected {what}, got {_kind(value)}")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    self.fail(path + (key,), f"unknown field {key!r} (allowed: {', '.join(sorted(allowed))})")
        return value

    def sequence(self, value, path: tuple, what: str = "a list") -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, f"expected {what}, got {_kind(value)}")
        return value

    # --- scalars -------------------------------------------------------------------------------------
    def _take(self, m: dict, path: tuple, key: str, default):
        if key not in m or m[key] is None and default is not MISSING:
            if default is MISSING:
                self.fail(path + (key,), "is required")
            return MISSING, default
        return m[key], None

    def str(self, m: dict, path: tuple, key: str, default=MISSING, *, choices=None, nonempty: bool = True,
            max_len: int = 10_000):
        value, fallback = self._take(m, path, key, default)
        if value is MISSING:
            return fallback
        p = path + (key,)
        if not isinstance(value, str):
            self.fail(p, f"expected a string, got {_kind(value)}")
        if nonempty and not value.strip():
            self.fail(p, "must not be empty")
        if len(value) > max_len:
            self.fail(p, f"longer than {max_len} characters")
        if choices is not None and value not in choices:
            self.fail(p, f"{value!r} is not one of {', '.join(sorted(choices))}")
        return value

    def int(self, m: dict, path: tuple, key: str, default=MISSING, *, low: int = 0, high: int = INT64_MAX):
        value, fallback = self._take(m, path, key, default)
        if value is MISSING:
            return fallback
        return self.int_value(value, path + (key,), low=low, high=high)

    def int_value(self, value, p: tuple, *, low: int = 0, high: int = INT64_MAX) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                value = int(value)
            else:
                self.fail(p, f"expected a whole number, got {_kind(value)}")
        if not low <= value <= high:
            self.fail(p, f"{_short(value)} is out of range ({low}..{high})")
        return value

    def number(self, m: dict, path: tuple, key: str, default=MISSING, *, low: float = 0.0, high: float = 1e12,
               low_open: bool = False):
        value, fallback = self._take(m, path, key, default)
        if value is MISSING:
            return fallback
        return self.number_value(value, path + (key,), low=low, high=high, low_open=low_open)

    def number_value(self, value, p: tuple, *, low: float = 0.0, high: float = 1e12, low_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(p, f"expected a number, got {_kind(value)}")
        if isinstance(value, int) and abs(value) > 1e300:
            self.fail(p, f"{_short(value)} is out of range")
        value = float(value)
        if not math.isfinite(value):
            self.fail(p, f"{value!r} is not a finite number")
        if value < low or (low_open and value == low) or value > high:
            bound = f"more than {low:g}" if low_open else f"at least {low:g}"
            self.fail(p, f"{value:g} is out of range ({bound}, at most {high:g})")
        return value

    def share(self, m: dict, path: tuple, key: str, default=MISSING) -> float:
        return self.number(m, path, key, default, low=0.0, high=1.0)

    def duration(self, m: dict, path: tuple, key: str, default=MISSING, *, allow_zero: bool = False):
        value, fallback = self._take(m, path, key, default)
        if value is MISSING:
            return fallback
        try:
            return parse_duration(value, allow_zero=allow_zero)
        except ValueError as err:
            self.fail(path + (key,), str(err))

    def bool(self, m: dict, path: tuple, key: str, default=MISSING) -> bool:
        value, fallback = self._take(m, path, key, default)
        if value is MISSING:
            return fallback
        if not isinstance(value, bool):
            self.fail(path + (key,), f"expected true or false, got {_kind(value)}")
        return value

    def str_list(self, m: dict, path: tuple, key: str, default=MISSING, *, nonempty: bool = False) -> list:
        value, fallback = self._take(m, path, key, default)
        if value is MISSING:
            return fallback
        p = path + (key,)
        items = self.sequence(value, p, "a list of strings")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(p + (i,), f"expected a string, got {_kind(item)}")
        if nonempty and not items:
            self.fail(p, "must not be empty")
        return list(items)

    def str_map(self, m: dict, path: tuple, key: str) -> dict:
        """A mapping of names to scalar values (env vars and the like), all turned into strings."""
        p = path + (key,)
        out = {}
        for name, value in self.mapping(m.get(key), p, what="a mapping of names to values").items():
            if isinstance(value, (dict, list)) or value is None:
                self.fail(p + (name,), f"expected a string or number, got {_kind(value)}")
            if isinstance(value, float) and not math.isfinite(value):
                self.fail(p + (name,), f"{value!r} is not a finite number")
            out[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return out


def _kind(value) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({_short(value)})"
    if isinstance(value, str):
        return f"a string ({_short(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _short(value) -> str:
    if isinstance(value, int) and abs(value) > 10 ** 30:
        return f"a {len(str(abs(value))) if abs(value) < 10 ** 4000 else 'many'}-digit number"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
