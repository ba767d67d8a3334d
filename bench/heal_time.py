"""Benchmark: how long the harness takes to heal a fault, until the heal is seen from outside.

Starts what it needs (bench/heal_targets.py): a redis-server and a PostgreSQL behind links of the project's own
fault proxy, two processes the harness started (`sleep`), and a container serving HTTP when a Docker Engine
answers (otherwise that row says why it is missing).

Per fault kind, rounds interleaved across kinds (the order reverses every round): the fault is applied through
the harness's own classes (build_faults, heal_record, inject, in a gevent-patched process as the master is),
seen applied from outside, then heal() is called; timed from that call until the heal is seen from outside:

    process.kill / process.term / process.pause   the pidfile's process runs, not stopped (a new pid for kill/term)
    datastore.outage of redis / postgresql         PING answers PONG / SELECT 1 answers, on the server's own port
    network.latency (400 ms) / network.down         a fresh connection through the link gets PONG, in < 100 ms
    container pause / kill                          the container's HTTP port answers 200

p50/p95/max over the rounds, with the median time heal() itself took.

Then Ctrl-C: a Locust master (`locust --headless` with the plugin, users from bench/heal_user.py) with five
faults of different families applied at once (process pause, process kill, latency toxic, link down, a container
pause when there is a container), SIGINT to its process group as a terminal's Ctrl-C sends; timed until every
fault is seen healed from outside and the master has exited.

    python bench/heal_time.py [--rounds 10] [--ctrl-c-rounds 3]

Last lines: `heal_p95_s: X` (the slowest kind's p95) and `heal_all_s: Y` (Ctrl-C to everything healed and the
master exited, median of rounds; goal <= 1 s).
"""
import gevent.monkey

gevent.monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
from chaos_hooks.control.journal import Journal  # noqa: E402
from chaos_hooks.faults import build_faults  # noqa: E402
from chaos_hooks.spec.profile import load_profile  # noqa: E402
from chaos_hooks.spec.timeline import FaultSpec  # noqa: E402
from figures import last_line, percentile, spread  # noqa: E402
from heal_targets import LATENCY_MS, Targets, http_serves, pg_answers, pid_in, proc_state, redis_rtt  # noqa: E402

GOAL_HEAL_ALL_S = 1.0
FAST_RTT_S = LATENCY_MS / 4000
LOCUST = os.path.join(os.path.dirname(sys.executable), "locust")


class NotSeen(Exception):
    """A condition the benchmark waits for did not hold in time; main() turns it into the exit message."""


def await_true(check, timeout: float, what: str, interval: float = 0.002) -> float:
    """perf_counter() at the first poll where check() holds; raises NotSeen naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise NotSeen(f"heal_time: {what} not seen within {timeout:g} s")
        gevent.sleep(interval)
    return time.perf_counter()


def running(pid) -> bool:
    return proc_state(pid) in ("R", "S", "D")


class Kind:
    """One row: the fault, and prepare() -> (applied, healed), the two checks from outside for one round."""

    def __init__(self, label: str, action: str, target: str, params: dict, prepare):
        self.label, self.action, self.target, self.params, self.prepare = label, action, target, params, prepare


def kinds(t: Targets) -> list[Kind]:
    def killed(name):  # applied: the pid the pidfile named is gone; healed: it names another, running process
        def prepare():
            old = pid_in(t.pidfiles[name])
            return (lambda: not running(old)), (lambda: pid_in(t.pidfiles[name]) not in (None, old)
                                                and running(pid_in(t.pidfiles[name])))
        return prepare

    def paused(name):
        def prepare():
            pid = pid_in(t.pidfiles[name])
            return (lambda: proc_state(pid) == "T"), (lambda: running(pid))
        return prepare

    def fixed(applied, healed):
        return lambda: (applied, healed)

    cache, link = t.server_address("cache"), t.link_address("cache")
    out = [
        Kind("process.kill", "process.kill", "sleeper", {}, killed("sleeper")),
        Kind("process.term", "process.term", "sleeper", {"grace": 2.0}, killed("sleeper")),
        Kind("process.pause", "process.pause", "sleeper", {}, paused("sleeper")),
        Kind("datastore.outage redis", "datastore.outage", "cache", {},
             fixed(lambda: redis_rtt(cache, 0.5) is None, lambda: redis_rtt(cache, 0.5) is not None)),
        Kind("datastore.outage postgresql", "datastore.outage", "db", {},
             fixed(lambda: not pg_answers(t.urls["db"]), lambda: pg_answers(t.urls["db"]))),
        Kind(f"network.latency {LATENCY_MS} ms", "network.latency", "cache", {"latency": LATENCY_MS},
             fixed(lambda: (redis_rtt(link) or 0) >= LATENCY_MS / 1000 * 0.9,
                   lambda: (redis_rtt(link) or 1) < FAST_RTT_S)),
        Kind("network.down", "network.down", "cache", {},
             fixed(lambda: redis_rtt(link, 0.5) is None, lambda: (redis_rtt(link) or 1) < FAST_RTT_S)),
    ]
    if t.container is not None:
        def box(applied):
            return fixed(lambda: applied(t.container_state()), lambda: http_serves(t.http_port))
        out.append(Kind("container pause", "process.pause", "box", {}, box(lambda s: s["Paused"])))
        out.append(Kind("container kill", "process.kill", "box", {}, box(lambda s: not s["Running"])))
    return out


def one_heal(kind: Kind, profile) -> tuple[float, float]:
    """(seconds heal() took, seconds from the heal call until the heal is seen from outside)."""
    (fault,) = build_faults([FaultSpec(f"bench-{kind.action}", kind.action, kind.target, 0.0, None,
                                       dict(kind.params))], profile)
    applied, healed = kind.prepare()
    fault.heal_record()  # what the scheduler journals first (a pause fixes its pid here)
    fault.inject()
    await_true(applied, 30, f"{kind.label} applied")
    began = time.perf_counter()
    fault.heal()
    called = time.perf_counter()
    seen = await_true(healed, 60, f"{kind.label} healed")
    return called - began, seen - began


# --- Ctrl-C: everything at once --------------------------------------------------------------------------------
SCENARIO = """name: bench-heal-all
load: {{users: 2, spawn_rate: 2, run_time: 300s, user_classes: [IdleUser]}}
faults:
  - {{name: pause, action: process.pause, target: sleeper, at: 0.2s, heal_after: 250s}}
  - {{name: kill, action: process.kill, target: sleeper2, at: 0.2s, heal_after: 250s}}
  - {{name: slow, action: network.latency, target: cache, at: 0.2s, heal_after: 250s, latency: {latency}}}
  - {{name: cut, action: network.down, target: db, at: 0.2s, heal_after: 250s}}
{container}invariants: {{bench_heal: {{}}}}
min_acked: 0
"""
CONTAINER_FAULT = "  - {name: freeze, action: process.pause, target: box, at: 0.2s, heal_after: 250s}\n"


def all_at_once(t: Targets) -> dict[str, tuple]:
    """Per fault: (applied, healed) checks from outside, each prepared for this round."""
    pause_pid, kill_pid = pid_in(t.pidfiles["sleeper"]), pid_in(t.pidfiles["sleeper2"])
    cache_link, db_link = t.link_address("cache"), t.db_via_link()
    checks = {
        "process.pause": (lambda: proc_state(pause_pid) == "T", lambda: running(pause_pid)),
        "process.kill": (lambda: not running(kill_pid),
                         lambda: pid_in(t.pidfiles["sleeper2"]) not in (None, kill_pid)
                         and running(pid_in(t.pidfiles["sleeper2"]))),
        "network.latency": (lambda: (redis_rtt(cache_link) or 0) >= LATENCY_MS / 1000 * 0.9,
                            lambda: (redis_rtt(cache_link) or 1) < FAST_RTT_S),
        "network.down": (lambda: not pg_answers(db_link), lambda: pg_answers(db_link)),
    }
    if t.container is not None:
        checks["container pause"] = (lambda: t.container_state()["Paused"], lambda: http_serves(t.http_port))
    return checks


def _sigint_default() -> None:
    """In the master before exec: Ctrl-C acts even when this benchmark runs as a background job (SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ctrl_c_round(t: Targets, tmp: str, n: int) -> dict[str, float]:
    """Seconds from SIGINT until each fault is seen healed, and until the run exited ("exit")."""
    scenario = os.path.join(tmp, "heal-all.yaml")
    with open(scenario, "w") as f:
        f.write(SCENARIO.format(latency=LATENCY_MS, container=CONTAINER_FAULT if t.container is not None else ""))
    home = os.path.join(tmp, "home")
    t.own_sleepers()
    checks = all_at_once(t)
    with open(os.path.join(tmp, f"run{n}.log"), "w") as log:
        run = subprocess.Popen([LOCUST, "-f", os.path.join(HERE, "heal_user.py"), "--headless", "--only-summary",
                                "--chaos-scenario-file", scenario, "--chaos-target", t.profile_path,
                                "--chaos-report-dir", os.path.join(tmp, f"report{n}"), "--chaos-quiet", "-u", "2",
                                "-r", "2", "-t", "300s", "--stop-timeout", "0", "--host", "http://127.0.0.1:9"],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               env=dict(os.environ, LOCUST_CHAOS_HOME=home), preexec_fn=_sigint_default)
    try:
        for name, (applied, _) in checks.items():
            await_true(lambda: applied() or run.poll() is not None, 90, f"Ctrl-C round: {name} applied")
            if run.poll() is not None:
                sys.exit(f"heal_time: the master exited {run.returncode} before its faults landed:\n"
                         f"{open(log.name).read()[-2000:]}")
        began = time.perf_counter()
        os.killpg(run.pid, signal.SIGINT)  # the run's own process group: what Ctrl-C at its terminal reaches
        seen = {name: gevent.spawn(await_true, healed, 60, f"Ctrl-C round: {name} healed")
                for name, (_, healed) in checks.items()}
        seen["exit"] = gevent.spawn(await_true, lambda: run.poll() is not None, 60, "Ctrl-C round: the master exit")
        gevent.joinall(list(seen.values()))
        failed = [g.exception for g in seen.values() if g.exception is not None]
        if failed:
            raise failed[0]  # once, in the main greenlet, so every clean-up below and in main() runs whole
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)
            run.wait(60)
    if run.returncode != 3:  # interrupted before its verdict
        sys.exit(f"heal_time: the interrupted master exited {run.returncode}, not 3:\n"
                 f"{open(log.name).read()[-2000:]}")
    pending = Journal(os.path.join(home, "journal.jsonl")).pending()
    if pending:
        sys.exit(f"heal_time: {len(pending)} fault(s) still pending in the journal after the run exited")
    return {name: g.value - began for name, g in seen.items()}


# --- the run ---------------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="heals per fault kind (default 10)")
    parser.add_argument("--ctrl-c-rounds", type=int, default=3, help="interrupted runs (default 3)")
    args = parser.parse_args()
    # A miss in a waiting greenlet is stored on it and raised once from here; the hub need not print it too.
    gevent.get_hub().NOT_ERROR += (NotSeen,)
    t = Targets()
    try:
        profile = load_profile(t.profile_path)
        rows = kinds(t)
        call = {k.label: [] for k in rows}
        verified = {k.label: [] for k in rows}
        for r in range(args.rounds):
            for kind in (rows if r % 2 == 0 else rows[::-1]):
                took, seen = one_heal(kind, profile)
                call[kind.label].append(took)
                verified[kind.label].append(seen)
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k.label} {verified[k.label][-1] * 1000:.0f} ms"
                                                                 for k in rows), file=sys.stderr, flush=True)
        all_rounds = []
        with tempfile.TemporaryDirectory(prefix="locust-chaos-bench-") as tmp:
            for n in range(args.ctrl_c_rounds):
                all_rounds.append(ctrl_c_round(t, tmp, n))
                print(f"Ctrl-C round {n + 1}/{args.ctrl_c_rounds}: " + ", ".join(
                    f"{name} {s:.3f} s" for name, s in all_rounds[-1].items()), file=sys.stderr, flush=True)
        report(args, rows, call, verified, all_rounds, t.no_container)
    except NotSeen as miss:
        sys.exit(str(miss))
    finally:
        t.stop()


def report(args, rows, call, verified, all_rounds, no_container) -> None:
    print(f"\nheal call -> heal seen from outside, {args.rounds} rounds per kind (interleaved); ms")
    print(f"{'':30}{'p50':>9}{'p95':>9}{'max':>9}{'heal() p50':>12}")
    for k in rows:
        v = [s * 1000 for s in verified[k.label]]
        print(f"{k.label:30}{percentile(v, 0.5):>9.1f}{percentile(v, 0.95):>9.1f}{max(v):>9.1f}"
              f"{statistics.median(call[k.label]) * 1000:>12.1f}")
    if no_container:
        print(f"{'container pause / kill':30}  not measured: {no_container}")
    names = list(all_rounds[0])
    everything = [max(r.values()) for r in all_rounds]
    print(f"\nCtrl-C (SIGINT to the master's process group) with {len(names) - 1} faults applied at once, "
          f"{len(all_rounds)} rounds; s after SIGINT, median (min-max)")
    for name in names:
        label = "master exited" if name == "exit" else f"{name} healed"
        print(f"{label:30}{spread([r[name] for r in all_rounds], '{:.3f}'):>24}")
    print(f"{'all healed and exited':30}{spread(everything, '{:.3f}'):>24}")
    heal_all = statistics.median(everything)
    print(f"goal heal_all_s <= {GOAL_HEAL_ALL_S:g} s: {'met' if heal_all <= GOAL_HEAL_ALL_S else 'not met'} "
          f"({heal_all:.3f} s)")
    last_line("heal_p95_s", max(percentile(verified[k.label], 0.95) for k in rows))
    last_line("heal_all_s", heal_all)


if __name__ == "__main__":
    main()
