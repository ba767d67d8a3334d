"""Shrinking a failing schedule (delta debugging, Zeller's ddmin): find a smaller one that still fails the same
invariant. First drop faults, then shorten them and move them earlier (and cut the run time to what is left),
then reduce the load. Every candidate is judged by an oracle — in `locust-chaos shrink`, a real run — and the
search stops when the budget cannot pay for another one; the smallest failing schedule so far is the answer.

Pure: nothing here runs a system; the oracle is a function (candidate -> still fails?)."""
import time
from dataclasses import dataclass, field, replace

MIN_AT_S = 0.5          # a fault no earlier than this: the load must have started
MIN_HEAL_S = 0.5        # a fault held at least this long
RUN_TAIL_S = 1.0        # the load runs on this long after the last heal
MIN_RUN_S = 2.0


@dataclass(frozen=True)
class Candidate:
    """A schedule to try: faults (FaultSpec, each with at and heal_after) and the load."""
    faults: tuple
    users: int
    spawn_rate: float
    run_time: float

    def key(self) -> tuple:
        return (tuple((f.name, f.action, f.target, round(f.at, 3), _r(f.heal_after), repr(sorted(f.params.items())))
                      for f in self.faults), self.users, round(self.spawn_rate, 3), round(self.run_time, 3))

    def describe(self) -> str:
        faults = ", ".join(f"{f.name} ({f.action} {f.target}) @{f.at:g}s" +
                           (f" for {f.heal_after:g}s" if f.heal_after is not None else "")
                           for f in sorted(self.faults, key=lambda f: f.at))
        return f"[{faults or 'no faults'}] {self.users} users for {self.run_time:g}s"


def _r(value):
    return None if value is None else round(value, 3)


class OutOfBudget(Exception):
    pass


@dataclass
class Budget:
    """A time budget in seconds; a run is started only if it is expected to end within it."""
    seconds: float
    clock: object = time.monotonic
    started: float = field(default=None)
    durations: list = field(default_factory=list)

    def __post_init__(self):
        if self.started is None:
            self.started = self.clock()

    def used(self) -> float:
        return self.clock() - self.started

    def expected_run_s(self) -> float:
        return max(self.durations) if self.durations else 0.0

    def allows_another(self) -> bool:
        return self.used() + self.expected_run_s() <= self.seconds

    def record(self, seconds: float) -> None:
        self.durations.append(seconds)


def ddmin(items: list, fails) -> list:
    """The classic minimising delta debugging: a 1-minimal sublist of items for which fails(sublist) holds
    (fails(items) is assumed). Order is kept."""
    items = list(items)
    n = 2
    while len(items) >= 2:
        chunks = _split(items, n)
        for chunk in chunks:
            if fails(chunk):
                items, n = chunk, 2
                break
        else:
            for i in range(len(chunks)):
                rest = [x for j, c in enumerate(chunks) if j != i for x in c]
                if len(chunks) > 2 and fails(rest):  # with 2 chunks the complements are the chunks: tried
                    items, n = rest, max(n - 1, 2)
                    break
            else:
                if n >= len(items):
                    break
                n = min(len(items), n * 2)
    return items


def _split(items: list, n: int) -> list[list]:
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        if end > start:
            out.append(items[start:end])
        start = end
    return out


class Shrinker:
    """oracle(candidate) -> True when it still fails; on_step(candidate, failed, phase) after every try."""

    def __init__(self, oracle, budget: Budget, on_step=lambda *_: None):
        self.oracle = oracle
        self.budget = budget
        self.on_step = on_step
        self.tried: dict[tuple, bool] = {}

    def fails(self, candidate: Candidate, phase: str) -> bool:
        key = candidate.key()
        if key in self.tried:
            return self.tried[key]
        if not self.budget.allows_another():
            raise OutOfBudget()
        started = self.budget.clock()
        failed = bool(self.oracle(candidate))
        self.budget.record(self.budget.clock() - started)
        self.tried[key] = failed
        self.on_step(candidate, failed, phase)
        return failed

    def shrink(self, start: Candidate) -> tuple[Candidate, bool]:
        """The smallest failing candidate found, and whether the search finished within the budget."""
        best = [start]
        self.tried[start.key()] = True  # known to fail: the caller checked

        def take(c: Candidate, phase: str) -> bool:
            if self.fails(c, phase):
                best[0] = c
                return True
            return False
        try:
            faults = ddmin(list(start.faults), lambda fs: take(replace(best[0], faults=tuple(fs)), "drop faults"))
            best[0] = replace(best[0], faults=tuple(faults))
            self._shorten(best, take)
            self._reduce_load(best, take)
        except OutOfBudget:
            return best[0], False
        return best[0], True

    def _shorten(self, best: list, take) -> None:
        for i in range(len(best[0].faults)):
            for attr, floor in (("at", MIN_AT_S), ("heal_after", MIN_HEAL_S)):
                while True:
                    f = best[0].faults[i]
                    value = getattr(f, attr)
                    if value is None or value <= floor:
                        break
                    smaller = max(floor, round(value / 2, 1))
                    if not take(_with_fault(best[0], i, replace(f, **{attr: smaller})), "shorten faults"):
                        break
        while True:
            end = max([f.at + (f.heal_after or 0.0) for f in best[0].faults] or [0.0]) + RUN_TAIL_S
            target = max(MIN_RUN_S, round(end, 1), round(best[0].run_time / 2, 1))
            if target >= best[0].run_time or not take(replace(best[0], run_time=target), "shorten the run"):
                break

    def _reduce_load(self, best: list, take) -> None:
        while best[0].users > 1:
            users = max(1, best[0].users // 2)
            rate = min(best[0].spawn_rate, float(users)) if best[0].spawn_rate >= best[0].users else best[0].spawn_rate
            if not take(replace(best[0], users=users, spawn_rate=rate), "reduce load"):
                break


def _with_fault(c: Candidate, i: int, fault) -> Candidate:
    faults = list(c.faults)
    faults[i] = fault
    return replace(c, faults=tuple(faults))
