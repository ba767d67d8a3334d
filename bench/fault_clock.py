"""Benchmark: how close to its scheduled offset a fault fires while the master is busy. 200 no-op faults (a
fault kind this bench registers through the faults registry) at random offsets, run by the real
control.scheduler.Scheduler inside a Locust local runner whose users burn CPU to hold the process near 90 %;
the same timeline on an idle process side by side, rounds interleaved. |actual - scheduled| per fault: p50, p99
and max in ms, medians (min-max) over rounds.

    python bench/fault_clock.py [--faults 200] [--seconds 6] [--rounds 3] [--busy 0.9]

Last line: `fault_skew_p99_ms: X` (loaded, median of rounds).
"""
import gevent.monkey

gevent.monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from locust import User, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from chaos_hooks.control.journal import Journal  # noqa: E402
from chaos_hooks.control.scheduler import Scheduler  # noqa: E402
from chaos_hooks.faults.base import Fault  # noqa: E402
from chaos_hooks.faults.registry import FAULT_ACTIONS, build_faults, register  # noqa: E402
from chaos_hooks.spec.timeline import FaultSpec  # noqa: E402
from figures import last_line, percentile, spread  # noqa: E402

USERS = 10
BURST_S = 0.002


@register
class NoopFault(Fault):
    action = "bench.noop"

    def inject(self) -> dict:
        return {}

    def heal(self) -> None:
        pass

    def heal_record(self) -> dict:
        return {}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        pass


class Burner(User):
    """Busy BURST_S, then asleep so that USERS of them keep the process busy `share` of the time."""
    share = 0.9
    wait_time = constant(0)

    @task
    def burn(self):
        end = time.perf_counter() + BURST_S
        while time.perf_counter() < end:
            pass
        gevent.sleep(USERS * BURST_S / self.share - BURST_S)


def one_round(n_faults: int, seconds: float, loaded: bool, busy: float, journal: Journal, seed: int):
    """Skews in ms, and the process's CPU share over the timeline."""
    rnd = random.Random(seed)
    specs = [FaultSpec(f"noop-{i}", "bench.noop", "none", round(0.5 + rnd.random() * seconds, 3), None, {})
             for i in range(n_faults)]
    faults = build_faults(specs, None)
    env = runner = None
    if loaded:
        Burner.share = busy
        env = Environment(user_classes=[Burner])
        runner = env.create_local_runner()
        runner.start(USERS, spawn_rate=USERS * 100)
        gevent.sleep(0.3)
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    scheduler = Scheduler(faults, journal, "bench")
    scheduler.start()
    gevent.joinall(list(scheduler.greenlets), timeout=seconds + 30)
    cpu1, wall1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    if runner is not None:
        runner.quit()
    cpu_share = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / (wall1 - wall0)
    skews = []
    for rec in scheduler.records.values():
        assert rec.injected_at is not None, rec.error
        skews.append(abs(rec.injected_at - (scheduler.t0_wall + rec.at_s)) * 1000)
    return skews, cpu_share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=6.0, help="offsets spread over this window (default 6)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--busy", type=float, default=0.9, help="CPU share the users aim at (default 0.9)")
    args = parser.parse_args()
    assert FAULT_ACTIONS["bench.noop"] is NoopFault
    figures = {label: {"p50": [], "p99": [], "max": [], "cpu": []} for label in ("idle", "loaded")}
    with tempfile.TemporaryDirectory(prefix="locust-chaos-bench-") as tmp:
        journal = Journal(os.path.join(tmp, "journal.jsonl"))
        for r in range(args.rounds):
            for label in (("idle", "loaded") if r % 2 == 0 else ("loaded", "idle")):
                skews, cpu = one_round(args.faults, args.seconds, label == "loaded", args.busy, journal, r)
                f = figures[label]
                f["p50"].append(percentile(skews, 0.5))
                f["p99"].append(percentile(skews, 0.99))
                f["max"].append(max(skews))
                f["cpu"].append(cpu * 100)
                print(f"round {r + 1}/{args.rounds} {label:7} p99 {f['p99'][-1]:.2f} ms, cpu {cpu:.0%}",
                      file=sys.stderr, flush=True)
    print(f"\n{args.faults} no-op faults at random offsets over {args.seconds:g} s, {args.rounds} rounds; "
          f"|actual - scheduled| in ms, median (min-max)")
    print(f"{'':8}{'cpu %':>18}{'p50':>22}{'p99':>22}{'max':>22}")
    for label, f in figures.items():
        print(f"{label:8}{spread(f['cpu']):>18}{spread(f['p50'], '{:.2f}'):>22}{spread(f['p99'], '{:.2f}'):>22}"
              f"{spread(f['max'], '{:.2f}'):>22}")
    last_line("fault_skew_p99_ms", statistics.median(figures["loaded"]["p99"]), "{:.2f}")


if __name__ == "__main__":
    main()
