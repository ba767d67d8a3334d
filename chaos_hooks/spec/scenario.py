"""Scenarios: load, run values, faults on a timeline and the invariants to decide; presets by name.

    name: worker-crash
    description: ...
    system: inventory                     # reference system started when no --target is given
    plugins: [mypkg.chaos]             # modules that register invariants, faults or read kinds
    load: {users: 50, spawn_rate: 50, run_time: 30s, user_classes: [OrderUser], wait: [1, 5],
           settings: {retry_share: 0.2}}   # free-form: the locustfile reads them as run.settings
    values: {product: "iphone-15-{run_id}", stock: 100}   # reach setup, reads and every user
    faults:
      - {name: kill-worker, action: process.kill, target: worker, at: 5s, heal_after: 10s}
    invariants: {no_data_loss: {}, no_oversell: {initial: stock}, catch_up: {max: 30s}}
    # An instance NAME@LABEL may rename the reads it uses (a parameter named like the role):
    #   no_oversell@db: {initial: stock, stock_left: stock_db}     no_duplicates@cancel: {persisted: cancellations}
    min_acked: 1                       # fewer acknowledged operations: undecided, never a pass
    allow_worker_loss: false           # a load generator lost mid-run is a harness problem (exit 3)

Every mistake is one ScenarioError naming file, line and field (exit 2).
"""
import importlib
import os
import re
from dataclasses import dataclass, field

from chaos_hooks.common.durations import format_duration
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.common.fields import Fields
from chaos_hooks.common.safe_yaml import load_file
from chaos_hooks.common.templates import TemplateError, names_in
from chaos_hooks.spec.timeline import FaultSpec, NemesisSpec, nemesis_schedule, parse_fault, parse_nemesis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET_DIR = os.path.join(ROOT, "scenarios")
TOP_FIELDS = {"name", "description", "system", "plugins", "load", "values", "faults", "nemesis", "invariants",
              "probes", "guards", "min_acked", "allow_worker_loss"}
LOAD_FIELDS = {"users", "spawn_rate", "run_time", "user_classes", "wait", "settings"}
RUN_VALUES = ("run_id",)  # values every run has besides the scenario's own and what setup saves
_VALUE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class LoadSpec:
    users: int = 10
    spawn_rate: float = 10.0
    run_time: float = 60.0
    user_classes: list[str] = field(default_factory=list)
    wait: tuple[float, float] = (1.0, 1.0)
    settings: dict = field(default_factory=dict)  # the locustfile's own knobs (run.settings), plain values

    def to_dict(self) -> dict:
        return {"users": self.users, "spawn_rate": self.spawn_rate, "run_time": self.run_time,
                "user_classes": self.user_classes, "wait": list(self.wait), "settings": dict(self.settings)}


@dataclass
class Scenario:
    name: str
    description: str
    load: LoadSpec
    values: dict
    faults: list[FaultSpec]
    invariants: dict[str, dict]
    source: str
    system: str | None = None
    plugins: list[str] = field(default_factory=list)
    min_acked: int = 1
    allow_worker_loss: bool = False
    nemesis: NemesisSpec | None = None
    probes: list = field(default_factory=list)
    guards: list = field(default_factory=list)
    lines: dict = field(default_factory=dict)  # field path -> line, for errors found later

    def where(self, *path) -> str:
        while path:
            if path in self.lines:
                return f"{self.source}:{self.lines[path]}"
            path = path[:-1]
        return self.source

    def check_timeline(self, run_time: float) -> None:
        """A fault that would start after the load ends is an error, never silently dropped."""
        for f in self.faults:
            if f.at >= run_time:
                raise ScenarioError(f"{self.source}:{f.line}: faults.{f.name}.at: starts at {format_duration(f.at)} "
                                    f"but the load ends at {format_duration(run_time)} (raise --run-time or move "
                                    f"the fault)")
        if self.nemesis is not None and self.nemesis.end > run_time:
            raise ScenarioError(f"{self.source}:{self.nemesis.line}: nemesis.end: {format_duration(self.nemesis.end)} "
                                f"is after the load ends at {format_duration(run_time)}")

    def timeline(self, seed: int | None) -> list[FaultSpec]:
        """Every fault of one run: the fixed ones and, for this seed, the nemesis's."""
        if self.nemesis is None:
            return list(self.faults)
        return list(self.faults) + nemesis_schedule(self.nemesis, seed if seed is not None else 0)


def load_plugins(names: list[str], where: str) -> None:
    """Imports modules that register invariants, faults, read or setup kinds."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ScenarioError(f"{where}: plugin {name!r} cannot be imported: {err}") from None
        except Exception as err:
            raise ScenarioError(f"{where}: plugin {name!r} failed while loading: {type(err).__name__}: {err}") \
                from None


def _parse_load(f: Fields, top: dict) -> LoadSpec:
    p = ("load",)
    m = f.mapping(top.get("load"), p, LOAD_FIELDS)
    wait = f.sequence(m.get("wait", [1, 1]), p + ("wait",), "[min, max] seconds")
    if len(wait) != 2:
        f.fail(p + ("wait",), "expected [min, max] seconds between a user's tasks")
    low = f.number_value(wait[0], p + ("wait", 0), low=0, high=3600)
    high = f.number_value(wait[1], p + ("wait", 1), low=0, high=3600)
    if high < low:
        f.fail(p + ("wait",), f"max {high:g} is less than min {low:g}")
    return LoadSpec(users=f.int(m, p, "users", 10, low=1, high=100_000),
                    spawn_rate=f.number(m, p, "spawn_rate", 10.0, low=0, high=100_000, low_open=True),
                    run_time=f.duration(m, p, "run_time", 60.0),
                    user_classes=f.str_list(m, p, "user_classes", []),
                    wait=(low, high), settings=_parse_settings(f, m, p))


def _parse_settings(f: Fields, load: dict, p: tuple) -> dict:
    """`load.settings`: the locustfile's own knobs, free-form; plain scalars or lists of them (they travel to
    every load generator)."""
    settings = f.mapping(load.get("settings"), p + ("settings",), what="a mapping of name: value")
    for name, value in settings.items():
        items = value if isinstance(value, list) else [value]
        if not all(v is None or isinstance(v, (str, int, float, bool)) for v in items):
            f.fail(p + ("settings", name), "expected a number, string, boolean or a list of them")
    return dict(settings)


def _parse_values(f: Fields, top: dict) -> dict:
    values = {}
    for name, value in f.mapping(top.get("values"), ("values",), what="a mapping of name: value").items():
        p = ("values", name)
        if not _VALUE_NAME.match(name) or name in RUN_VALUES:
            f.fail(p, f"a value name is a letter or _ then letters, digits, _ (and not {', '.join(RUN_VALUES)})")
        if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
            f.fail(p, "expected a string or a number")
        if isinstance(value, int):
            f.int_value(value, p, low=-(2 ** 63), high=2 ** 63 - 1)
        elif isinstance(value, float):
            f.number_value(value, p, low=-1e15, high=1e15)
        else:
            try:
                unknown = names_in(value) - set(RUN_VALUES)
            except TemplateError as err:
                f.fail(p, str(err))
            if unknown:
                f.fail(p, f"values may use only {{run_id}}, not {{{sorted(unknown)[0]}}}")
        values[name] = value
    return values


def _parse_faults(f: Fields, top: dict) -> list[FaultSpec]:
    faults = []
    for i, raw in enumerate(f.sequence(top.get("faults"), ("faults",), "a list of faults")):
        action = raw.get("action") if isinstance(raw, dict) else None
        faults += parse_fault(f, raw, ("faults", i), _param, f"{action}-{i}")
    seen = set()
    for spec in faults:
        if spec.name in seen:
            raise ScenarioError(f"{f.source}:{spec.line}: faults: duplicate fault name {spec.name!r}")
        seen.add(spec.name)
    return faults


def _param(f: Fields, m: dict, path: tuple, key: str, kind):
    if kind.startswith("choice:"):
        return f.str(m, path, key, choices=set(kind[len("choice:"):].split(",")))
    if kind == "duration":
        return f.duration(m, path, key)
    if kind == "int":
        return f.int(m, path, key, low=0, high=10 ** 12)
    if kind == "share":
        return f.share(m, path, key)
    if kind == "number":
        return f.number(m, path, key, low=0, high=1e12)
    if kind == "bool":
        return f.bool(m, path, key)
    return f.str(m, path, key, max_len=1000)


def _named_value(f: Fields, m: dict, path: tuple, key: str, values: dict) -> str:
    """A parameter that names a run value holding a whole number (e.g. the initial stock)."""
    name = f.str(m, path, key, max_len=100)
    if name in values and (isinstance(values[name], bool) or not isinstance(values[name], int)):
        f.fail(("values", name), f"{path[-1]} takes it as a whole number, got {values[name]!r}")
    return name


_INSTANCE = re.compile(r"^([a-z_:]+)(@[A-Za-z0-9_.-]+)?$")


def _parse_invariants(f: Fields, top: dict, values: dict) -> dict:
    """`name: {params}`, or an instance `name@label: {params, role: read}`: a parameter named like a read role the
    invariant needs names the profile read it uses instead (`no_oversell@db: {initial: stock, stock_left:
    stock_db}`), so one scenario checks one invariant against several sources."""
    from chaos_hooks.invariants import INVARIANTS
    from chaos_hooks.invariants.registry import kind_of
    inv_map = f.mapping(top.get("invariants"), ("invariants",), what="a mapping of invariant name: {bounds}")
    if not inv_map:
        f.fail(("invariants",), "at least one invariant is required (a mapping of name: {bounds})")
    invariants = {}
    for name, params in inv_map.items():
        p = ("invariants", name)
        kind = kind_of(str(name))
        if not _INSTANCE.match(str(name)):
            f.fail(p, f"an invariant is NAME or NAME@LABEL (label: letters, digits, _ . -), got {name!r}")
        if kind not in INVARIANTS:
            f.fail(p, f"unknown invariant {kind!r} (known: {', '.join(sorted(INVARIANTS))})")
        needs = INVARIANTS[kind].needs
        params = f.mapping(params, p, set(INVARIANTS[kind].params) | set(needs))
        invariants[name] = {k: (_named_value(f, params, p, k, values) if kind_ == "int_value" else
                                _param(f, params, p, k, kind_))
                            for k, kind_ in INVARIANTS[kind].params.items() if k in params}
        invariants[name].update({role: f.str(params, p, role, max_len=100) for role in needs if role in params})
    return invariants


def parse_scenario(doc) -> Scenario:
    from chaos_hooks.spec.reference_systems import find_systems
    f = Fields(doc)
    top = f.mapping(doc.data, (), TOP_FIELDS, what="a scenario (a mapping with name, load, faults, invariants)")
    plugins = f.str_list(top, (), "plugins", [])
    load_plugins(plugins, f.where(("plugins",)))
    name = f.str(top, (), "name", max_len=100)
    values = _parse_values(f, top)
    from chaos_hooks.spec.probes import parse_guards, parse_probes
    probes = parse_probes(f, top.get("probes"), _param)
    return Scenario(name=name, description=f.str(top, (), "description", "", nonempty=False),
                    load=_parse_load(f, top), values=values, faults=_parse_faults(f, top),
                    nemesis=parse_nemesis(f, top.get("nemesis"), _param), probes=probes,
                    guards=parse_guards(f, top.get("guards"), probes),
                    invariants=_parse_invariants(f, top, values), source=doc.source,
                    system=f.str(top, (), "system", None, choices=set(find_systems())), plugins=plugins,
                    min_acked=f.int(top, (), "min_acked", 1, low=0, high=10 ** 12),
                    allow_worker_loss=f.bool(top, (), "allow_worker_loss", False), lines=dict(doc.lines))


def preset_names() -> list[str]:
    if not os.path.isdir(PRESET_DIR):
        return []
    return sorted(f[:-5] for f in os.listdir(PRESET_DIR) if f.endswith(".yaml"))


def resolve(name_or_path: str) -> str:
    """A preset name (scenarios/NAME.yaml) or a path to a scenario file."""
    if not name_or_path:
        raise ScenarioError("no scenario given (a preset name — see `locust-chaos list` — or a .yaml file)")
    if os.path.sep in name_or_path or name_or_path.endswith((".yaml", ".yml", ".json")):
        return name_or_path
    path = os.path.join(PRESET_DIR, f"{name_or_path}.yaml")
    if not os.path.exists(path):
        raise ScenarioError(f"unknown scenario {name_or_path!r} (presets: {', '.join(preset_names()) or 'none'}; "
                            f"or give a path to a .yaml file)")
    return path


def load_scenario(name_or_path: str) -> Scenario:
    return parse_scenario(load_file(resolve(name_or_path)))
