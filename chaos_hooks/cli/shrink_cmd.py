"""`locust-chaos shrink REPORT_DIR [--budget 20m]`: for a failed run, search for a smaller schedule that still
fails the same invariant — drop faults (delta debugging), then shorten them and move them earlier, then reduce
the load — running the real system for every candidate (same seed, bug switches or target as the run). Writes
REPORT_DIR/shrunk.yaml (a plain scenario file) and ends with the command that runs it.

First the original schedule is replayed: if it passes, the failure is flaky — replayed --replays times, how
many failed is reported, nothing is shrunk (exit 3). Exit code: 1 a failing schedule was found (shrunk.yaml),
2 bad input (not a failed run), 3 flaky, interrupted or no run could decide."""
import os

from chaos_hooks.cli.child_run import Interrupts, RunSpec, log_tail
from chaos_hooks.cli.console import say
from chaos_hooks.cli.replay_cmd import run_spec
from chaos_hooks.cli.run_record import load_record
from chaos_hooks.cli.scenario_cmds import run_time_arg
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.control.shrinker import Budget, Candidate, OutOfBudget, Shrinker
from chaos_hooks.spec import scenario_file
from chaos_hooks.spec.scenario import load_scenario

SHRUNK = "shrunk.yaml"


EXIT_CODES = ("Exit codes: 1 a smaller failing schedule was found (shrunk.yaml); 2 bad arguments or report "
              "directory; 3 nothing to shrink (the original does not fail again: flaky) or the budget ran out first.")


def add_to(sub) -> None:
    p = sub.add_parser("shrink", help="find a smaller schedule that still fails the same invariant",
                       description=__doc__, epilog=EXIT_CODES)
    p.add_argument("report", metavar="REPORT_DIR", help="report directory of a failed `locust-chaos run`")
    p.add_argument("--budget", default="20m", help="time for the whole search (default 20m); no run starts "
                                                   "that would not end within it")
    p.add_argument("--invariant", help="the invariant that must keep failing (default: the run's first invalid one)")
    p.add_argument("--replays", type=int, default=3, help="replays of a schedule that passed once, to measure "
                                                          "flakiness (default 3)")
    p.add_argument("--target", metavar="PROFILE", help="run against this running system instead of the recorded one")
    p.add_argument("--bugs", default=None, help="bug switches instead of the recorded ones (embedded stack)")
    p.set_defaults(func=run)


def _failed_invariant(report: str, wanted: str | None) -> str:
    from chaos_hooks.cli.replay_cmd import _read_json
    verdict = _read_json(os.path.join(report, "verdict.json"))
    if verdict is None:
        raise ScenarioError(f"{report}/verdict.json: not found or unreadable (shrink needs a finished run)")
    invalid = [i["name"] for i in verdict.get("invariants", []) if i["status"] == "invalid"]
    if not invalid:
        raise ScenarioError(f"{report}: the run did not fail (status {verdict.get('status')}): nothing to shrink")
    if wanted is not None and wanted not in invalid:
        raise ScenarioError(f"--invariant: {wanted} did not fail in {report} (invalid: {', '.join(invalid)})")
    return wanted or invalid[0]


class Campaign:
    """Runs candidates for real: each one a scenario file and a run directory under REPORT_DIR/shrink/."""

    def __init__(self, report: str, record: dict, base: RunSpec, invariant: str, interrupts: Interrupts):
        self.dir = os.path.join(report, "shrink")
        self.raw = scenario_file.raw(os.path.join(report, record.get("scenario_file") or "scenario.yaml"))
        self.name = record.get("name") or self.raw.get("name", "scenario")
        self.base = base
        self.invariant = invariant
        self.interrupts = interrupts
        self.runs = 0
        self.last_verdict = ""
        self.last_failing: dict[tuple, str] = {}  # candidate key -> its failing run's directory

    def write(self, c: Candidate, path: str, name: str, header: str = "") -> str:
        data = scenario_file.with_schedule(self.raw, c.faults, c.users, c.spawn_rate, c.run_time, name)
        scenario_file.write(path, data, header)
        return path

    def spec_for(self, path: str) -> RunSpec:
        return RunSpec(path, seed=self.base.seed, bugs=self.base.bugs, target=self.base.target,
                       locustfile=self.base.locustfile, workers=self.base.workers, plugins=self.base.plugins)

    def fails(self, c: Candidate) -> bool:
        if self.interrupts.stopped:
            raise OutOfBudget()
        self.runs += 1
        os.makedirs(self.dir, exist_ok=True)
        step = os.path.join(self.dir, f"step-{self.runs:02d}")
        path = self.write(c, step + ".yaml", f"{self.name}-step-{self.runs}")
        outcome = self.interrupts.run(self.spec_for(path), step)
        if self.interrupts.stopped:
            raise OutOfBudget()
        v = outcome.verdict
        self.last_verdict = "no verdict: " + (log_tail(step) or f"exit {outcome.code}") if v is None else \
            ", ".join(f"{i['name']} {i['status']}" for i in v.get("invariants", []))
        failed = v is not None and any(i["name"] == self.invariant and i["status"] == "invalid"
                                       for i in v.get("invariants", []))
        if failed:
            self.last_failing[c.key()] = step
        return failed


def run(args) -> int:
    report = args.report.rstrip("/")
    record = load_record(report)
    invariant = _failed_invariant(report, args.invariant)
    budget_s = run_time_arg(args.budget, 1200.0)
    if not 1 <= args.replays <= 100:
        raise ScenarioError(f"--replays: {args.replays} is out of range (1..100)")
    scenario = load_scenario(os.path.join(report, record.get("scenario_file") or "scenario.yaml"))
    base = run_spec(report, record, "", args.target, args.bugs)
    start = Candidate(faults=tuple(scenario.timeline(record.get("nemesis_seed"))),
                      users=record.get("users") or scenario.load.users,
                      spawn_rate=record.get("spawn_rate") or scenario.load.spawn_rate,
                      run_time=record.get("run_time") or scenario.load.run_time)
    budget = Budget(budget_s)
    say(f"shrink: {scenario.name} failed {invariant}; budget {args.budget}; each candidate is a real run "
        f"(seed {base.seed}{', bugs ' + base.bugs if base.bugs else ''}{', target ' + base.target if base.target else ''})")
    with Interrupts() as interrupts:
        camp = Campaign(report, record, base, invariant, interrupts)

        def step(c: Candidate, failed: bool, phase: str) -> None:
            print(f"step {camp.runs}: {phase}: {c.describe()} -> "
                  f"{'FAILS ' + invariant if failed else 'passes'} ({camp.last_verdict}); "
                  f"runs {camp.runs}, {_fmt(budget.used())} of {_fmt(budget_s)}", flush=True)
        shrinker = Shrinker(camp.fails, budget, step)
        try:
            original_fails = shrinker.fails(start, "replay the original")
        except OutOfBudget:
            print("shrink: interrupted before the original schedule was replayed")
            return 3
        if not original_fails:
            return _flaky(shrinker, camp, start, args.replays, budget, invariant)
        best, finished = shrinker.shrink(start)
    if interrupts.stopped:
        say("shrink: interrupted; the run going on was healed")
    path = os.path.join(report, SHRUNK)
    header = (f"{scenario.name} shrunk by `locust-chaos shrink {report}`: still fails {invariant}\n"
              f"{len(start.faults)} -> {len(best.faults)} fault(s), {camp.runs} runs")
    camp.write(best, path, f"{scenario.name}-shrunk", header)
    print(f"shrink: {len(start.faults)} -> {len(best.faults)} fault(s): {best.describe()}; "
          f"{'search complete' if finished else 'budget used up' if not interrupts.stopped else 'interrupted'} "
          f"after {camp.runs} runs in {_fmt(budget.used())}; wrote {path}")
    failing = camp.last_failing.get(best.key())
    if failing:
        print(f"shrink: the failing run of it: {failing} (locust-chaos replay {failing})")
    print(f"run it: {camp.spec_for(path).command()}", flush=True)
    return 1


def _flaky(shrinker, camp, start, replays: int, budget, invariant: str) -> int:
    failed, runs = 0, 1
    for _ in range(replays - 1):
        if camp.interrupts.stopped or not budget.allows_another():
            break
        shrinker.tried.pop(start.key(), None)  # the same schedule again, for real
        try:
            failed += shrinker.fails(start, "replay the original")
        except OutOfBudget:
            break
        runs += 1
    print(f"shrink: flaky: {failed} of {runs} replays of the original schedule failed {invariant} "
          f"(the run itself failed it); not shrunk")
    return 3


def _fmt(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
