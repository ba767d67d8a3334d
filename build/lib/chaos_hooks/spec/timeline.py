"""The fault timeline: faults at fixed offsets (`at`, `heal_after`), repeated ones (`every`, `count`), and a
seeded nemesis that picks faults from a list at random moments within bounds (Jepsen's). The same seed always
gives the same schedule; the seed is printed and written to verdict.json.

    faults:
      - {name: kill-worker, action: process.kill, target: worker, at: 5s, heal_after: 3s, every: 10s, count: 3}
    nemesis:
      seed: 7                       # optional: else --seed, else a random one (printed)
      start: 5s                     # first fault no earlier than this
      end: 25s                      # every fault healed by this
      interval: [1s, 4s]            # quiet time between one fault's heal and the next fault
      duration: [1s, 3s]            # how long each fault stays applied
      faults:                       # what it picks from: fault entries without name, at or heal_after
        - {action: process.kill, target: worker}
        - {action: network.latency, target: cache, latency: 200}
"""
import random
from dataclasses import dataclass, field

from chaos_hooks.common.durations import format_duration
from chaos_hooks.common.fields import Fields


@dataclass
class FaultSpec:
    name: str
    action: str
    target: str
    at: float
    heal_after: float | None
    params: dict
    line: int | None = None
    group: str = ""  # the name the scenario gave: repeated and nemesis faults share it

    def __post_init__(self):
        self.group = self.group or self.name


@dataclass
class NemesisSpec:
    start: float
    end: float
    interval: tuple[float, float]
    duration: tuple[float, float]
    choices: list[FaultSpec] = field(default_factory=list)  # at/heal_after unset
    seed: int | None = None
    line: int | None = None


def parse_fault(f: Fields, raw, path: tuple, param, default_name: str, timed: bool = True) -> list[FaultSpec]:
    """One fault entry; with every/count, its occurrences (name#1, name#2, ...)."""
    from chaos_hooks.faults import FAULT_ACTIONS
    raw = f.mapping(raw, path, what="a fault: {name, action, target, at, heal_after}")
    action = f.str(raw, path, "action", choices=set(FAULT_ACTIONS))
    cls = FAULT_ACTIONS[action]
    base = {"name", "action", "target"} | ({"at", "heal_after", "every", "count"} if timed else set())
    f.mapping(raw, path, base | set(cls.params))
    name = f.str(raw, path, "name", default_name, max_len=100)
    params = {key: param(f, raw, path, key, kind) for key, kind in cls.params.items() if key in raw}
    target = f.str(raw, path, "target", max_len=200)
    if not timed:
        return [FaultSpec(name, action, target, 0.0, None, params, f.doc.line(path))]
    at = f.duration(raw, path, "at", allow_zero=True)
    heal_after = f.duration(raw, path, "heal_after", None)
    every = f.duration(raw, path, "every", None)
    count = f.int(raw, path, "count", None, low=1, high=1000)
    if (every is None) != (count is None):
        f.fail(path + (("count",) if every is not None else ("every",)), "every and count go together")
    if every is None:
        return [FaultSpec(name, action, target, at, heal_after, params, f.doc.line(path))]
    if heal_after is None or heal_after >= every:
        f.fail(path + ("heal_after",), f"a repeated fault needs a heal_after shorter than every ({format_duration(every)})")
    return [FaultSpec(f"{name}#{k + 1}", action, target, at + k * every, heal_after, params, f.doc.line(path), name)
            for k in range(count)]


def _span(f: Fields, m: dict, path: tuple, key: str) -> tuple[float, float]:
    value = f.sequence(m.get(key), path + (key,), "[min, max]")
    if len(value) != 2:
        f.fail(path + (key,), "expected [min, max], e.g. [1s, 3s]")
    low, high = (f.duration({0: v}, path + (key,), 0) for v in value)
    if high < low:
        f.fail(path + (key,), f"max {format_duration(high)} is less than min {format_duration(low)}")
    return low, high


def parse_nemesis(f: Fields, raw, param) -> NemesisSpec | None:
    if raw is None:
        return None
    path = ("nemesis",)
    m = f.mapping(raw, path, {"seed", "start", "end", "interval", "duration", "faults"})
    choices = []
    for i, entry in enumerate(f.sequence(m.get("faults"), path + ("faults",), "a list of faults")):
        choices += parse_fault(f, entry, path + ("faults", i), param, f"nemesis-{i}", timed=False)
    if not choices:
        f.fail(path + ("faults",), "the nemesis needs at least one fault to pick from")
    spec = NemesisSpec(start=f.duration(m, path, "start", 0.0, allow_zero=True), end=f.duration(m, path, "end"),
                       interval=_span(f, m, path, "interval"), duration=_span(f, m, path, "duration"),
                       choices=choices, seed=f.int(m, path, "seed", None), line=f.doc.line(path))
    if spec.end <= spec.start + spec.duration[0]:
        f.fail(path + ("end",), "leaves no room for a single fault after start")
    return spec


def nemesis_schedule(spec: NemesisSpec, seed: int) -> list[FaultSpec]:
    """The nemesis's faults for one seed: one at a time, each healed before the next, all within [start, end]."""
    rnd = random.Random(seed)
    out, t, n = [], spec.start + rnd.uniform(*spec.interval), 0
    while True:
        duration = rnd.uniform(*spec.duration)
        if t + duration > spec.end:
            return out
        choice = rnd.choice(spec.choices)
        n += 1
        out.append(FaultSpec(f"nemesis-{n}-{choice.name}", choice.action, choice.target, round(t, 3),
                             round(duration, 3), dict(choice.params), spec.line, choice.name))
        t += duration + rnd.uniform(*spec.interval)


def describe(specs: list[FaultSpec]) -> list[str]:
    lines = []
    for s in sorted(specs, key=lambda s: s.at):
        heal = f"healed at +{format_duration(s.at + s.heal_after)}" if s.heal_after is not None else "healed at stop"
        extra = "".join(f" {k}={v}" for k, v in s.params.items())
        lines.append(f"+{format_duration(s.at):<8} {s.name:<26} {s.action} {s.target}{extra}  ({heal})")
    return lines
