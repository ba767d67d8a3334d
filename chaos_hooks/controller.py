"""One chaos run, driven from the master (or local runner): sale set-up, fault timeline, history
gathering, heal, catch-up, invariants and verdict. Knows nothing of Locust events (plugin.py does)."""
import logging
import time
import uuid

import gevent
import redis

from .errors import TargetUnreachable
from .faults import build_faults
from .http_json import http_json
from .history import HistoryCollector
from .invariants import INVARIANTS
from .invariants.sets import acked_keys, analyse
from .journal import Journal
from .observe import Observer
from .report import render_table, write_report
from .schedule import Scheduler

log = logging.getLogger("locust_chaos.controller")
FLUSH_TIMEOUT_S = 30.0


def preflight(target, journal: Journal) -> None:
    """The target answers and no fault from an earlier crashed run is still applied."""
    for line in journal.heal_pending():
        log.info("preflight: %s", line)
    status, body = http_json("GET", f"{target.host}/ready")
    if status != 200:
        problems = body.get("problems") if isinstance(body, dict) else None
        raise TargetUnreachable(f"{target.host}/ready answered {status}" + (f": {problems}" if problems else ""))


class RunController:
    def __init__(self, scenario, target, journal: Journal, report_dir: str, seed: int | None):
        self.scenario = scenario
        self.target = target
        self.journal = journal
        self.report_dir = report_dir
        self.seed = seed
        self.faults = build_faults(scenario.faults, target)
        self.run_id = uuid.uuid4().hex[:8]
        self.product_id = f"{scenario.sale.product_id}-{self.run_id}"
        self.observer = Observer(target, self.product_id)
        self.collector = HistoryCollector()
        self.scheduler = Scheduler(self.faults, journal, target.source)
        self.scheduler.before_heal = self._backlog_before_heal
        self.scheduler.on_heal = self._watch_backlog
        self.watchers: list = []
        self.sources: set[str] = set()
        self.load_ended_at: float | None = None
        self.verdict: dict | None = None
        self.aborted = False

    def run_config(self) -> dict:
        """What every load generator needs to know about this run."""
        load = self.scenario.load
        return {"run_id": self.run_id, "product_id": self.product_id, "wait": list(load.wait),
                "retry_share": load.retry_share, "seed": self.seed}

    def start(self) -> None:
        status, body = http_json("POST", f"{self.target.host}/sale",
                                 {"product_id": self.product_id, "quantity": self.scenario.sale.quantity})
        if status != 201:
            raise TargetUnreachable(f"{self.target.host}/sale answered {status}: {body}")
        self.scheduler.start()
        log.info("chaos run %s: %s, product %s, %d fault(s) scheduled", self.run_id, self.scenario.name,
                 self.product_id, len(self.faults))

    def _backlog_before_heal(self, rec) -> None:
        """The consumer's backlog the moment before a heal (a restarted consumer drains it within ms)."""
        try:
            lag, pending = self.observer.stream_backlog()
            rec.facts["backlog_at_heal"] = lag + pending
        except redis.RedisError:
            pass  # Redis may be what is being healed: the drain watch still reports

    def _watch_backlog(self, rec) -> None:
        """After a heal: how long the backlog took to drain (seed 001's "backlog processed in ~10s")."""
        self.watchers.append(gevent.spawn(self._measure_backlog, rec))

    def _measure_backlog(self, rec, poll: float = 0.05, limit_s: float = 120.0) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            try:
                lag, pending = self.observer.stream_backlog()
            except redis.RedisError:  # Redis may itself be the thing that was just healed: try again
                gevent.sleep(poll)
                continue
            if lag == 0 and pending == 0:
                rec.facts["backlog_drained_s"] = round(time.time() - rec.healed_at, 3)
                return
            gevent.sleep(poll)

    def wait_for_history(self, timeout: float = FLUSH_TIMEOUT_S) -> list[str]:
        """Flush barrier: every worker that took part sent its final batch. Returns the missing ones."""
        deadline = time.monotonic() + timeout
        while not self.collector.complete(self.sources) and time.monotonic() < deadline:
            gevent.sleep(0.05)
        return self.collector.missing(self.sources)

    def heal_all(self) -> None:
        self.scheduler.heal_all()

    def finish(self, worker_count: int, missing: list[str]) -> dict:
        """Heals, waits for catch-up, observes the SUT, decides the invariants, writes the report."""
        self.load_ended_at = self.load_ended_at or time.time()
        self.heal_all()
        ops = self.collector.ops
        acked = acked_keys(ops)
        since = max(self.load_ended_at, self.scheduler.last_heal() or 0.0)
        bound = self.scenario.invariants.get("catch_up", {}).get("max", 30.0)
        log.info("verifying: waiting for the consumer to catch up (bound %.0fs)", bound)
        state = self.observer.observe(acked, since, bound)
        # Stop our own drain-watch greenlets: a backlog not drained by now is what catch_up reports.
        gevent.killall(self.watchers, block=True)
        analysis = analyse(ops, state.persisted_keys)
        results = [INVARIANTS[name].check(analysis, state, params)
                   for name, params in self.scenario.invariants.items()]
        faults = self.scheduler.report()
        harness_problems = ([f"no final history from {', '.join(missing)}"] if missing else []) + \
            [f"fault {f['name']}: {f['error']}" for f in faults if f["error"]] + \
            [f"fault {f['name']} never fired: the load ended before its start at +{f['at_s']:g}s"
             for f in faults if f["injected_at"] is None and not f["error"]]
        passed = all(r.passed for r in results) and not harness_problems
        verdict = {
            "scenario": self.scenario.name, "run_id": self.run_id, "product_id": self.product_id,
            "passed": passed,
            "invariants": [r.to_dict() for r in results],
            "history": analysis.counts(),
            "faults": faults,
            "catch_up_s": round(state.catch_up_s, 3) if state.catch_up_s is not None else None,
            "workers": worker_count,
            "history_complete": not missing,
            "harness_problems": harness_problems,
            "missing_history_from": missing,
            "stock": {"initial": state.initial_stock, "redis_left": state.redis_stock,
                      "persisted": state.persisted_count},
            "started_at": self.scheduler.t0_wall, "load_ended_at": self.load_ended_at,
            "report_dir": self.report_dir,
        }
        evidence = {r.name: r.evidence for r in results}
        write_report(self.report_dir, verdict, evidence, ops)
        self.verdict = verdict
        print("\n" + render_table(verdict) + "\n", flush=True)
        for problem in harness_problems:
            log.error("the run did not go as planned: %s; the verdict cannot pass", problem)
        return verdict

    def exit_code(self) -> int:
        if self.verdict is None or self.verdict["harness_problems"]:
            return 3
        return 0 if self.verdict["passed"] else 1
