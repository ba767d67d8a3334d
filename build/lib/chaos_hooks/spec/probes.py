"""Steady-state probes (Chaos Toolkit, Litmus) and guards (stop conditions: AWS FIS, k6 abortOnFail).

A probe polls one value during the run — an HTTP status (`http: GET /ready`) or a read of the target profile
(`read: backlog`) — and states what it must be, by phase:

    probes:
      - name: ready
        http: GET /ready
        every: 250ms
        expect:
          - {phase: before, equals: 200}                            # every sample before the first fault
          - {phase: during, fault: kill-redis, equals: 503}          # reached during the fault, held to its heal
          - {phase: after, fault: kill-redis, equals: 200, within: 30s}   # reached within 30 s of the heal, held
          - {phase: always, in: [200, 503]}

A guard stops the run early when the system is clearly hurt: every fault is healed at once, the load stops,
and the guard's invariant is invalid (exit 1):

    guards:
      - {name: errors, error_ratio: 0.5, window: 10s}   # share of operations the system did not answer
      - {name: slow, p99_ms: 2000, window: 10s}         # latency of answered operations
      - {name: not-ready, probe: ready, equals: 200, failures: 5}   # 5 samples in a row not 200
"""
from dataclasses import dataclass, field

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.common.fields import Fields
from chaos_hooks.reads.http_json_read import split_request

PHASES = {"before", "during", "after", "always"}
TESTS = ("equals", "in", "at_most", "at_least")


@dataclass
class Test:
    kind: str
    value: object

    def holds(self, value) -> bool:
        if value is None:
            return False
        if self.kind == "equals":
            return value == self.value
        if self.kind == "in":
            return value in self.value
        try:
            return float(value) <= self.value if self.kind == "at_most" else float(value) >= self.value
        except (TypeError, ValueError):
            return False

    def __str__(self) -> str:
        return {"equals": "= {}", "in": "in {}", "at_most": "<= {}", "at_least": ">= {}"}[self.kind].format(
            self.value)


@dataclass
class Expectation:
    phase: str
    test: Test
    fault: str | None = None
    within: float | None = None


@dataclass
class ProbeSpec:
    name: str
    every: float
    expect: list[Expectation]
    http: tuple[str, str] | None = None  # (method, path): the value is the status code
    read: str | None = None              # a read role of the target profile: the value is the read's value
    line: int | None = None


@dataclass
class GuardSpec:
    name: str
    kind: str                 # error_ratio | p95_ms | p99_ms | probe
    threshold: float = 0.0
    window: float = 10.0
    min_ops: int = 20
    probe: str | None = None
    test: Test | None = None
    failures: int = 3
    line: int | None = None
    extra: dict = field(default_factory=dict)


def _test(f: Fields, m: dict, path: tuple, needed: bool = True) -> Test | None:
    given = [k for k in TESTS if k in m]
    if len(given) != 1:
        if not needed and not given:
            return None
        f.fail(path, f"needs exactly one of {', '.join(TESTS)}")
    kind = given[0]
    value = m[kind]
    if kind == "in":
        value = f.sequence(value, path + (kind,), "a list of values")
    elif kind in ("at_most", "at_least"):
        value = f.number_value(value, path + (kind,), low=-1e15, high=1e15)
    elif isinstance(value, (dict, list)) or value is None:
        f.fail(path + (kind,), "expected a number or a string")
    return Test(kind, value)


def parse_probes(f: Fields, raw, param) -> list[ProbeSpec]:
    probes, seen = [], set()
    for i, entry in enumerate(f.sequence(raw, ("probes",), "a list of probes")):
        path = ("probes", i)
        m = f.mapping(entry, path, {"name", "http", "read", "every", "expect"})
        name = f.str(m, path, "name", max_len=100)
        if name in seen:
            f.fail(path + ("name",), f"duplicate probe name {name!r}")
        seen.add(name)
        if ("http" in m) == ("read" in m):
            f.fail(path, "a probe needs exactly one of http (its status) or read (a read role of the profile)")
        expect = []
        for j, e in enumerate(f.sequence(m.get("expect"), path + ("expect",), "a list of expectations")):
            p = path + ("expect", j)
            e = f.mapping(e, p, {"phase", "fault", "within", *TESTS})
            phase = f.str(e, p, "phase", choices=PHASES)
            fault = f.str(e, p, "fault", None, max_len=100)
            if (fault is None) == (phase in ("during", "after")):
                f.fail(p + ("fault",), "during and after name a fault; before and always do not")
            expect.append(Expectation(phase, _test(f, e, p), fault, f.duration(e, p, "within", None)))
        if not expect:
            f.fail(path + ("expect",), "a probe needs at least one expectation")
        probes.append(ProbeSpec(name=name, every=f.duration(m, path, "every", 0.5), expect=expect,
                                http=split_request(f.str(m, path, "http"), f, path + ("http",)) if "http" in m
                                else None, read=f.str(m, path, "read", None), line=f.doc.line(path)))
    return probes


def parse_guards(f: Fields, raw, probes: list[ProbeSpec]) -> list[GuardSpec]:
    guards = []
    for i, entry in enumerate(f.sequence(raw, ("guards",), "a list of guards")):
        path = ("guards", i)
        m = f.mapping(entry, path, {"name", "error_ratio", "p95_ms", "p99_ms", "window", "min_ops", "probe",
                                    "failures", *TESTS})
        kinds = [k for k in ("error_ratio", "p95_ms", "p99_ms", "probe") if k in m]
        if len(kinds) != 1:
            f.fail(path, "a guard needs exactly one of error_ratio, p95_ms, p99_ms or probe")
        kind = kinds[0]
        guard = GuardSpec(name=f.str(m, path, "name", max_len=100), kind=kind, line=f.doc.line(path),
                          window=f.duration(m, path, "window", 10.0), min_ops=f.int(m, path, "min_ops", 20,
                                                                                     low=1, high=10 ** 9))
        if kind == "probe":
            guard.probe = f.str(m, path, "probe", choices={p.name for p in probes} or {"(no probes)"})
            guard.test = _test(f, m, path)
            guard.failures = f.int(m, path, "failures", 3, low=1, high=10 ** 6)
        elif kind == "error_ratio":
            guard.threshold = f.share(m, path, "error_ratio")
        else:
            guard.threshold = f.number(m, path, kind, low=0, high=1e9, low_open=True)
        guards.append(guard)
    return guards


def check_probe_faults(scenario) -> None:
    """Every fault an expectation names exists in the timeline (a repeated fault by its base name)."""
    names = {f.name.split("#")[0] for f in scenario.faults}
    if scenario.nemesis is not None:
        names |= {c.name for c in scenario.nemesis.choices}
    for probe in scenario.probes:
        for e in probe.expect:
            if e.fault is not None and e.fault not in names:
                raise ScenarioError(f"{scenario.source}:{probe.line}: probes.{probe.name}: expects something of "
                                    f"fault {e.fault!r}, which the scenario does not have "
                                    f"(faults: {', '.join(sorted(names)) or 'none'})")
