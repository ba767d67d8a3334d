"""Scenario model: load, sale, faults and invariants; presets by name; validation with file:line messages."""
import os
from dataclasses import dataclass, field

import yaml

from .durations import parse_duration
from .errors import ScenarioError
from .yaml_lines import Located, load_located

PRESET_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scenarios")


@dataclass
class LoadSpec:
    users: int = 10
    spawn_rate: float = 10.0
    run_time: float = 60.0
    user_classes: list[str] = field(default_factory=lambda: ["OrderUser"])
    wait: tuple[float, float] = (1.0, 1.0)
    retry_share: float = 0.2


@dataclass
class SaleSpec:
    product_id: str = "item"
    quantity: int = 100


@dataclass
class FaultSpec:
    name: str
    action: str
    target: str
    at: float
    heal_after: float | None
    params: dict
    line: int | None = None


@dataclass
class Scenario:
    name: str
    description: str
    load: LoadSpec
    sale: SaleSpec
    faults: list[FaultSpec]
    invariants: dict[str, dict]
    source: str

    def check_timeline(self, run_time: float) -> None:
        """A fault that would start after the load ends is an error, never silently dropped."""
        for f in self.faults:
            if f.at >= run_time:
                raise ScenarioError(f"{self.source}:{f.line}: faults.{f.name}.at: starts at {f.at:g}s but the load "
                                    f"ends at {run_time:g}s (raise --run-time or move the fault)")


class _Reader:
    """Reads fields from a located document, raising ScenarioError naming file:line and field."""

    def __init__(self, doc: Located, source: str):
        self.doc = doc
        self.source = source

    def fail(self, path: tuple, message: str):
        dotted = ".".join(str(p) for p in path) or "(top level)"
        line = self.doc.line(path)
        where = f"{self.source}:{line}" if line else self.source
        raise ScenarioError(f"{where}: {dotted}: {message}")

    def get(self, mapping: dict, path: tuple, key: str, kind, default=..., check=None):
        if key not in mapping:
            if default is ...:
                self.fail(path, f"field {key!r} is required")
            return default
        value = mapping[key]
        if kind == "duration":
            try:
                return parse_duration(value)
            except ValueError as err:
                self.fail(path + (key,), str(err))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(path + (key,), f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        if check and not check(value):
            self.fail(path + (key,), f"value {value!r} is out of range")
        return value

    def mapping(self, value, path: tuple, allowed: set) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, "expected a mapping")
        for key in value:
            if key not in allowed:
                self.fail(path + (key,), f"unknown field {key!r} (allowed: {', '.join(sorted(allowed))})")
        return value


def _parse(doc: Located, source: str) -> Scenario:
    from .faults import FAULT_ACTIONS
    from .invariants import INVARIANTS

    r = _Reader(doc, source)
    top = r.mapping(doc.data, (), {"name", "description", "load", "sale", "faults", "invariants"})
    name = r.get(top, (), "name", str)
    load_map = r.mapping(top.get("load"), ("load",), {"users", "spawn_rate", "run_time", "user_classes", "wait",
                                                      "retry_share"})
    wait = load_map.get("wait", [1, 1])
    if (not isinstance(wait, list) or len(wait) != 2 or not all(isinstance(w, (int, float)) for w in wait)
            or wait[0] < 0 or wait[1] < wait[0]):
        r.fail(("load", "wait"), "expected [min, max] seconds between a user's tasks, 0 <= min <= max")
    load = LoadSpec(
        users=r.get(load_map, ("load",), "users", int, 10, lambda v: v > 0),
        spawn_rate=r.get(load_map, ("load",), "spawn_rate", float, 10.0, lambda v: v > 0),
        run_time=r.get(load_map, ("load",), "run_time", "duration", 60.0),
        user_classes=r.get(load_map, ("load",), "user_classes", list, ["OrderUser"]),
        wait=(float(wait[0]), float(wait[1])),
        retry_share=r.get(load_map, ("load",), "retry_share", float, 0.2, lambda v: 0 <= v <= 1),
    )
    sale_map = r.mapping(top.get("sale"), ("sale",), {"product_id", "quantity"})
    sale = SaleSpec(product_id=r.get(sale_map, ("sale",), "product_id", str, "item"),
                    quantity=r.get(sale_map, ("sale",), "quantity", int, 100, lambda v: v >= 0))
    faults, seen = [], set()
    raw_faults = top.get("faults") or []
    if not isinstance(raw_faults, list):
        r.fail(("faults",), "expected a list of faults")
    for i, raw in enumerate(raw_faults):
        path = ("faults", i)
        if not isinstance(raw, dict):
            r.fail(path, "expected a mapping with name, action, target, at")
        action = r.get(raw, path, "action", str)
        if action not in FAULT_ACTIONS:
            r.fail(path + ("action",), f"unknown fault action {action!r} (known: {', '.join(sorted(FAULT_ACTIONS))})")
        fname = r.get(raw, path, "name", str, f"{action}-{i}")
        if fname in seen:
            r.fail(path + ("name",), f"duplicate fault name {fname!r}")
        seen.add(fname)
        base = {"name", "action", "target", "at", "heal_after"}
        params = {k: v for k, v in raw.items() if k not in base}
        allowed = FAULT_ACTIONS[action].params
        for key in params:
            if key not in allowed:
                r.fail(path + (key,), f"unknown field {key!r} for {action} (allowed: "
                                      f"{', '.join(sorted(base | set(allowed)))})")
        faults.append(FaultSpec(name=fname, action=action, target=r.get(raw, path, "target", str),
                                at=r.get(raw, path, "at", "duration"),
                                heal_after=r.get(raw, path, "heal_after", "duration", None),
                                params=params, line=doc.line(path)))
    inv_map = top.get("invariants")
    if not isinstance(inv_map, dict) or not inv_map:
        r.fail(("invariants",), "at least one invariant is required (a mapping of name: {bounds})")
    invariants = {}
    for inv, params in inv_map.items():
        if inv not in INVARIANTS:
            r.fail(("invariants", inv), f"unknown invariant {inv!r} (known: {', '.join(sorted(INVARIANTS))})")
        params = r.mapping(params, ("invariants", inv), set(INVARIANTS[inv].params))
        parsed = {}
        for key, kind in INVARIANTS[inv].params.items():
            if key in params:
                parsed[key] = r.get(params, ("invariants", inv), key, kind)
        invariants[inv] = parsed
    return Scenario(name=name, description=r.get(top, (), "description", str, ""), load=load, sale=sale,
                    faults=faults, invariants=invariants, source=source)


def preset_names() -> list[str]:
    if not os.path.isdir(PRESET_DIR):
        return []
    return sorted(f[:-5] for f in os.listdir(PRESET_DIR) if f.endswith(".yaml"))


def resolve(name_or_path: str) -> str:
    """A preset name (scenarios/NAME.yaml) or a path to a scenario file."""
    if os.path.sep in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        return name_or_path
    path = os.path.join(PRESET_DIR, f"{name_or_path}.yaml")
    if not os.path.exists(path):
        raise ScenarioError(f"unknown scenario {name_or_path!r} (presets: {', '.join(preset_names()) or 'none'}; "
                            f"or give a path to a .yaml file)")
    return path


def load_scenario(name_or_path: str) -> Scenario:
    path = resolve(name_or_path)
    try:
        with open(path) as f:
            text = f.read()
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read scenario: {err.strerror}") from None
    try:
        doc = load_located(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioError(f"{where}: not valid YAML: {problem}") from None
    return _parse(doc, path)
