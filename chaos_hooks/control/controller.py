"""One chaos run, driven from the master (or local runner): run values and setup, the fault timeline, the
flush barrier, heal, catch-up, reads, invariants, verdict and report. Knows nothing of Locust events
(plugin.py does); knows no system (the scenario and the target profile say everything)."""
import logging
import random
import time
import uuid

import gevent

from chaos_hooks.spec import timeline
from chaos_hooks.verify import verification as verify
from chaos_hooks.verify.backlog_watch import CatchUpWatch, DrainWatch
from chaos_hooks.datastores.connections import Datastores, ReadFailed
from chaos_hooks.common.errors import ChaosError, TargetUnreachable
from chaos_hooks.faults import build_faults
from chaos_hooks.control.guards import GuardRunner
from chaos_hooks.history.recorder import worker_tag
from chaos_hooks.history.store import HistoryStore
from chaos_hooks.history.view import HistoryView
from chaos_hooks.control.journal import Journal
from chaos_hooks.control.lost_runs import run_record
from chaos_hooks.control.probe_checks import evaluate as evaluate_probe
from chaos_hooks.control.probe_runner import ProbeRunner
from chaos_hooks.reads import ReadContext
from chaos_hooks.report import render_table, write_report
from chaos_hooks.report.live import LiveLine
from chaos_hooks.control.scheduler import Scheduler
from chaos_hooks.setup_steps import SetupFailed
from chaos_hooks.common.templates import render
from chaos_hooks.verify.verdict import build_verdict, exit_code

log = logging.getLogger("locust_chaos.controller")
FLUSH_TIMEOUT_S = 30.0


class RunController:
    verdict_at_exit = False  # headless: the plugin prints the table when Locust quits, after its own summary

    def __init__(self, scenario, profile, journal: Journal, report_dir: str, seed: int | None):
        self.scenario = scenario
        self.profile = profile
        self.journal = journal
        self.report_dir = report_dir
        self.seed = seed
        self.nemesis_seed = None
        if scenario.nemesis is not None:  # printed and in verdict.json: the same seed gives the same schedule
            self.nemesis_seed = next(s for s in (scenario.nemesis.seed, seed, random.randrange(2 ** 31))
                                     if s is not None)
        self.timeline = scenario.timeline(self.nemesis_seed)
        self.faults = build_faults(self.timeline, profile)
        self.run_id = uuid.uuid4().hex[:8]
        self.values = {"run_id": self.run_id,
                       **{k: render(v, {"run_id": self.run_id}) for k, v in scenario.values.items()}}
        self.marks: dict = {}  # read role -> where its backlog stood at the start (reads count only later entries)
        self.datastores = Datastores(profile.datastores)
        self.ctx = ReadContext(self.datastores, self.values, profile.control_host, self.marks)
        self.store = HistoryStore()
        self.scheduler = Scheduler(self.faults, journal, profile.source)
        # Watchers poll from their own greenlets: each gets its own connections.
        self.drain = DrainWatch(profile, self._own_context())
        self.scheduler.before_heal = self.drain.before_heal
        self.scheduler.on_heal = self.drain.after_heal
        self.probes = ProbeRunner(scenario.probes, profile, self._own_context())
        self.guards = GuardRunner(scenario.guards, self.store, self.probes, self._trip)
        self.stop_load = None  # set by the plugin: how to stop Locust's users when a guard trips
        self.live: LiveLine | None = None
        self.catch_up_watch: CatchUpWatch | None = None
        self.sources: set[str] = set()   # load generators that took part (node ids)
        self.lost: dict[str, dict] = {}  # node id -> {tag, ops_reported}
        self.load_ended_at: float | None = None
        self.verdict: dict | None = None
        self.aborted: str | None = None  # why the run stopped before its verdict
        self.interrupted: dict | None = None  # {at, why}: stopped early (signal, guard, lost master)
        self.backlog_before: int | None = None  # backlog from before this run, at its start

    def _own_context(self) -> ReadContext:
        return ReadContext(Datastores(self.profile.datastores), self.values, self.profile.control_host, self.marks)

    # --- start ---------------------------------------------------------------------------------------
    def interrupt(self, why: str) -> None:
        """The run stops before its end: it can never pass (the first reason is kept)."""
        if self.interrupted is None:
            self.interrupted = {"at": time.time(), "why": why}
            log.warning("chaos run interrupted: %s", why)

    def mark_backlogs(self) -> None:
        """Each run sees only itself: where every backlog read stands now; what is queued before is reported."""
        for role, read in self.profile.reads.items():
            if not hasattr(read, "mark"):
                continue
            try:
                self.marks[role] = read.mark(self.ctx)
                if role == "backlog":
                    self.backlog_before = read.state(self.ctx, keys=False).before
            except ReadFailed as err:
                log.warning("read %s: could not mark where this run starts (%s); its backlog counts everything",
                            role, err)
        if self.backlog_before:
            log.info("backlog %d from before this run, not counted", self.backlog_before)

    def start(self, quiet: bool = False) -> None:
        self.mark_backlogs()
        for i, step in enumerate(self.profile.setup):
            try:
                saved = step.run(self.ctx)
            except SetupFailed as err:
                raise TargetUnreachable(f"{step.source}: setup.{i} ({step.describe()}) failed: {err}") from None
            self.values.update({k: _plain(v) for k, v in saved.items()})
        self.scheduler.start()
        self.journal.run_started(run_record(self))  # a master lost from here on still gets a verdict
        self.probes.start()
        self.guards.start()
        if not quiet:
            self.live = LiveLine(self).start()
        log.info("chaos run %s: %s on %s, %d fault(s) scheduled; values %s", self.run_id, self.scenario.name,
                 self.profile.host, len(self.faults),
                 ", ".join(f"{k}={v}" for k, v in self.values.items()))
        if self.nemesis_seed is not None:
            log.info("nemesis seed %d (the same seed reproduces this schedule)", self.nemesis_seed)
        for line in timeline.describe(self.timeline):
            log.info("timeline %s", line)

    def _trip(self, guard, why: dict) -> None:
        """A guard tripped: heal everything at once and stop the load; verification still runs."""
        log.error("guard %s tripped: %s; healing every fault and stopping the load", guard.name, why["reason"])
        self.interrupt(f"guard {guard.name} tripped: {why['reason']}")
        self.heal_all()
        if self.stop_load is not None:
            self.stop_load()

    def run_config(self) -> dict:
        """What every load generator needs to know about this run."""
        return {"run_id": self.run_id, "values": self.values, "load": self.scenario.load.to_dict(),
                "seed": self.seed}

    # --- during and after the load -------------------------------------------------------------------
    def watch_workers(self, clients_state) -> None:
        """Marks load generators that went missing (Locust's heartbeat) or quit before their history was
        complete as lost, at once. One that quits after its final batch is not lost."""
        incomplete = set(self.store.missing(self.sources))
        for node in incomplete:
            if node not in self.lost and clients_state(node) in (None, "missing"):
                self.lost[node] = {"tag": worker_tag(node), "ops_reported": self.store.received.get(node, 0)}
                log.error("load generator %s lost (its last report had %d operations)", node,
                          self.lost[node]["ops_reported"])

    def load_ended(self) -> None:
        if self.load_ended_at is None:
            self.load_ended_at = time.time()
            self.catch_up_watch = CatchUpWatch(self.profile, self._own_context(), self.load_ended_at).start()

    def wait_for_history(self, clients_state=None, timeout: float = FLUSH_TIMEOUT_S) -> list[str]:
        """Flush barrier: every load generator that took part sent its final batch, or is known lost.
        Returns those whose history is incomplete."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if clients_state is not None:
                self.watch_workers(clients_state)
            if not self.store.missing(self.sources - set(self.lost)):
                break
            gevent.sleep(0.05)
        return self.store.missing(self.sources)

    def heal_all(self) -> None:
        self.scheduler.heal_all()

    def fault_windows(self) -> list[dict]:
        """Each fault's window in wall time, for probes and phases."""
        return [{"name": r.name, "group": r.group, "injected_at": r.injected_at, "healed_at": r.healed_at,
                 # when the fault took effect and was gone: an inject or heal call may take a while
                 "effective_at": r.injected_at + r.facts.get("inject_took_s", 0.0) if r.injected_at else None,
                 "effective_healed_at": r.healed_at + r.facts.get("heal_took_s", 0.0) if r.healed_at else None}
                for r in self.scheduler.records.values()]

    # --- verification --------------------------------------------------------------------------------
    def finish(self, missing: list[str]) -> dict:
        """Heals, waits for catch-up, reads, decides the invariants, writes the report. Always writes a
        verdict (partial if verification cannot finish) and the history."""
        self.load_ended()
        self.guards.stop()
        if self.live is not None:
            self.live.stop()
        self.heal_all()
        for node in list(self.lost):
            if node not in missing:  # went missing for a moment, then delivered its whole history after all
                del self.lost[node]
        for node in missing:
            self.lost.setdefault(node, {"tag": worker_tag(node), "ops_reported": self.store.received.get(node, 0)})
        history = HistoryView(self.store, self.values, lost_tags={v["tag"] for v in self.lost.values()},
                              known_tags={worker_tag(s) for s in self.sources} | {"local"})
        results, reads, seen, problems = [], None, None, []
        try:
            seen, reuse = verify.wait_for_catch_up(self.scenario, self.profile, self.ctx, history,
                                                   self.catch_up_watch)
            self.drain.stop()
            faults = self.scheduler.report()
            seen.faults = [{"name": f["name"], "backlog_at_heal": f.get("facts", {}).get("backlog_at_heal"),
                            "drained_s": f.get("facts", {}).get("backlog_drained_s")} for f in faults]
            self.probes.stop()  # probes keep sampling through catch-up: "after" windows outlive the load
            reads = verify.make_reads(self.profile, self.ctx, verify.needed_reads(self.scenario), reuse)
            seen.before = self.backlog_before
            reads.observations["catch_up"] = seen
            results = verify.decide(self.scenario, history, reads)
            results += [evaluate_probe(p, self.probes.samples[p.name], self.fault_windows(), self.scheduler.t0_wall,
                                       self.probes.ended_at) for p in self.scenario.probes]
            results += self.guards.results(self.scheduler.t0_wall)
        except (ChaosError, ReadFailed) as err:
            problems.append(f"verification could not finish: {err}")
        finally:
            self.probes.stop()
            self.datastores.close()
        problems = self._harness_problems(history) + problems
        self.verdict = self._verdict(history, results, reads, seen, problems)
        write_report(self.report_dir, self.verdict, {r.name: r.evidence for r in results}, self.store)
        self.journal.run_ended(self.run_id)
        if not self.verdict_at_exit:
            print("\n" + render_table(self.verdict) + "\n", flush=True)
        for problem in problems:
            log.error("the run did not go as planned: %s; the verdict cannot pass", problem)
        return self.verdict

    def write_partial(self, why: str) -> None:
        """Verification never ran (interrupted, crashed): the history and what is known still go to disk."""
        self.guards.stop()
        self.probes.stop()
        history = HistoryView(self.store, self.values)
        self.verdict = self._verdict(history, [], None, None, [why], partial=True)
        write_report(self.report_dir, self.verdict, {}, self.store)
        self.journal.run_ended(self.run_id)
        print("\n" + render_table(self.verdict) + "\n", flush=True)

    def _harness_problems(self, history: HistoryView) -> list[str]:
        problems = []
        if self.lost and not self.scenario.allow_worker_loss:
            problems += [f"load generator {node} was lost mid-run (it had reported {v['ops_reported']} operations)"
                         for node, v in sorted(self.lost.items())]
        for f in self.scheduler.report():
            if f["error"]:
                problems.append(f"fault {f['name']}: {f['error']}")
            elif f["injected_at"] is None and not self.guards.tripped:  # a tripped guard cancels what is left
                problems.append(f"fault {f['name']} never fired: the load ended before its start at +{f['at_s']:g}s")
        acked = history.acked_count()
        if acked < self.scenario.min_acked:
            problems.append("nothing was acknowledged" if acked == 0 else
                            f"only {acked} operations were acknowledged, fewer than min_acked "
                            f"{self.scenario.min_acked}")
        return problems

    def _verdict(self, history, results, reads, seen, problems: list[str], partial: bool = False) -> dict:
        return build_verdict(self, history, results, reads, seen, problems, partial)

    def exit_code(self) -> int:
        return exit_code(self.verdict)


def _plain(value):
    """Run values travel to every worker (msgpack) and into verdict.json: numbers and strings only."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)  # Decimal, datetime, UUID, ...
