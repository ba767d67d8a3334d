"""Guards at run time: every half second, while the load runs, each guard looks at the operations completed in
its sliding window (from the history the master already holds) or at its probe's latest samples. The first
one to trip heals every fault, stops the load, and its invariant is invalid with the reason and the figure."""
import time

import gevent
import numpy as np

from chaos_hooks.history.recorder import INFO
from chaos_hooks.invariants import INVALID, VALID, Result

CHECK_S = 0.5


def window_figure(guard, cols, now: float):
    """The guard's figure over operations completed in [now - window, now], or None with too few of them."""
    in_window = (cols["t1"] >= now - guard.window) & (cols["t1"] <= now)
    outcome = cols["outcome"][in_window]
    if len(outcome) < guard.min_ops:
        return None
    answered = (outcome != INFO) & (cols["status"][in_window] > 0)  # a definite answer from the system
    if guard.kind == "error_ratio":
        return float(1 - answered.mean())
    if not answered.any():
        return None
    latency_ms = (cols["t1"][in_window][answered] - cols["t0"][in_window][answered]) * 1000
    return float(np.percentile(latency_ms, 95 if guard.kind == "p95_ms" else 99))


class GuardRunner:
    def __init__(self, guards, store, probes, on_trip):
        self.guards = guards
        self.store = store
        self.probes = probes  # ProbeRunner or None
        self.on_trip = on_trip
        self.tripped: dict[str, dict] = {}
        self.figures: dict[str, float | int | None] = {}  # each guard's latest figure, for the live views
        self.greenlet = None

    def start(self) -> "GuardRunner":
        if self.guards:
            self.greenlet = gevent.spawn(self._loop)
        return self

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=True)

    def _loop(self) -> None:
        while not self.tripped:
            gevent.sleep(CHECK_S)
            for guard in self.guards:
                why = self.check(guard, time.time())
                if why is not None:
                    self.tripped[guard.name] = {"at": time.time(), **why}
                    self.on_trip(guard, why)
                    return

    def check(self, guard, now: float) -> dict | None:
        if guard.kind == "probe":
            samples = (self.probes.samples.get(guard.probe) or [])[-guard.failures:] if self.probes else []
            failing = 0  # consecutive failures up to the latest sample
            for _, v in reversed(samples):
                if guard.test.holds(v):
                    break
                failing += 1
            self.figures[guard.name] = failing
            if len(samples) == guard.failures and failing == guard.failures:
                return {"figure": guard.failures, "reason": f"probe {guard.probe} was not {guard.test} "
                                                            f"{guard.failures} times in a row (last {samples[-1][1]})"}
            return None
        figure = window_figure(guard, self.store.columns(), now)
        self.figures[guard.name] = None if figure is None else round(figure, 3)
        if figure is None or figure <= guard.threshold:
            return None
        what = "unanswered share" if guard.kind == "error_ratio" else guard.kind.replace("_ms", "") + " latency"
        unit = "" if guard.kind == "error_ratio" else " ms"
        return {"figure": round(figure, 3), "reason": f"{what} {figure:.3g}{unit} over the last "
                                                      f"{guard.window:g}s, above {guard.threshold:g}{unit}"}

    def results(self, t0: float) -> list[Result]:
        out = []
        for guard in self.guards:
            trip = self.tripped.get(guard.name)
            if trip is None:
                out.append(Result(f"guard:{guard.name}", VALID, "never tripped", figure=0))
            else:
                out.append(Result(f"guard:{guard.name}", INVALID,
                                  f"tripped at +{trip['at'] - t0:.2f}s: {trip['reason']}; faults healed, load stopped",
                                  figure=trip["figure"], evidence=trip))
        return out
