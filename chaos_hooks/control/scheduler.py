"""Fault timeline: a greenlet on the master fires each fault at its offset from test start and heals it
after heal_after. Offsets come from a monotonic clock, not from LoadTestShape ticks."""
import logging
import time
from dataclasses import dataclass, field

import gevent

from chaos_hooks.control.journal import Journal

log = logging.getLogger("locust_chaos.schedule")
# A heal that failed is tried once more at stop; after that it stays in the journal for `locust-chaos heal`
# and the next preflight (each of which tries once), so a broken start command never piles up processes.
MAX_HEAL_ATTEMPTS = 2


@dataclass
class FaultRecord:
    """What happened to one fault, for the verdict."""
    name: str
    action: str
    target: str
    at_s: float
    heal_after_s: float | None
    description: str = ""
    injected_at: float | None = None
    healed_at: float | None = None
    error: str | None = None
    facts: dict = field(default_factory=dict)
    journal_id: str | None = None
    busy: bool = False  # inside inject() or heal(): let it finish rather than kill it halfway
    heal_attempts: int = 0
    group: str = ""

    def to_dict(self, t0: float) -> dict:
        def rel(t):
            return round(t - t0, 3) if t is not None else None
        return {"name": self.name, "group": self.group, "action": self.action, "target": self.target,
                "at_s": self.at_s,
                "heal_after_s": self.heal_after_s, "description": self.description,
                "injected_at": rel(self.injected_at), "healed_at": rel(self.healed_at), "error": self.error,
                **({"facts": self.facts} if self.facts else {})}


class Scheduler:
    def __init__(self, faults, journal: Journal, target_source: str):
        self.faults = faults  # list of Fault instances
        self.journal = journal
        self.target_source = target_source
        self.records = {f.spec.name: FaultRecord(f.spec.name, f.action, f.spec.target, f.spec.at, f.spec.heal_after,
                                                 f.describe(), group=f.spec.group) for f in faults}
        self.t0 = None
        self.t0_wall = None
        self.greenlets: dict = {}  # greenlet -> FaultRecord
        self.stopped = False
        self.before_heal = None  # called with the FaultRecord just before each heal
        self.on_heal = None  # called with the FaultRecord after each successful heal

    def start(self) -> None:
        self.t0, self.t0_wall = time.monotonic(), time.time()
        for fault in self.faults:
            self.greenlets[gevent.spawn(self._run_fault, fault)] = self.records[fault.spec.name]

    def _sleep_until(self, offset: float) -> None:
        delay = self.t0 + offset - time.monotonic()
        if delay > 0:
            gevent.sleep(delay)

    def _run_fault(self, fault) -> None:
        rec = self.records[fault.spec.name]
        self._sleep_until(fault.spec.at)
        if self.stopped:
            return
        rec.busy = True
        rec.journal_id = self.journal.intent(fault.action, fault.spec.name, self.target_source, fault.heal_record(),
                                             module=type(fault).__module__)
        try:
            started = time.time()  # the fault acts from the moment inject() begins
            rec.facts = fault.inject() or {}
            rec.injected_at = started
            rec.facts["inject_took_s"] = round(time.time() - started, 3)
            rec.busy = False
            log.info("fault %s injected at +%.2fs: %s", rec.name, rec.injected_at - self.t0_wall, rec.description)
        except Exception as err:
            rec.error = f"inject failed: {err}"
            log.error("fault %s: %s", rec.name, rec.error)
            self._heal(fault)  # the journal holds an intent: close it whatever state inject() left
            rec.busy = False
            return
        if fault.spec.heal_after is not None:
            self._sleep_until(fault.spec.at + fault.spec.heal_after)
            self._heal(fault)

    def _heal(self, fault) -> None:
        rec = self.records[fault.spec.name]
        if rec.journal_id is None or rec.healed_at is not None or rec.heal_attempts >= MAX_HEAL_ATTEMPTS:
            return
        rec.heal_attempts += 1
        rec.busy = True
        try:
            if self.before_heal is not None:
                self.before_heal(rec)
            started = time.time()  # recovery can show from the moment heal() begins
            fault.heal()
            rec.healed_at = started
            rec.facts["heal_took_s"] = round(time.time() - started, 3)
            self.journal.healed(rec.journal_id)
            log.info("fault %s healed at +%.2fs", rec.name, rec.healed_at - self.t0_wall)
            if self.on_heal is not None:
                self.on_heal(rec)
        except Exception as err:
            rec.error = ((rec.error + "; ") if rec.error else "") + f"heal failed: {err}"
            log.error("fault %s: heal failed: %s (left in the journal for `locust-chaos heal`)", rec.name, err)
        finally:
            rec.busy = False

    def heal_all(self) -> None:
        """Stops the timeline and heals every applied fault at once, whatever its scheduled heal time: one
        greenlet per fault, so a slow inject or heal delays only its own. Safe to call more than once."""
        self.stopped = True
        current = gevent.getcurrent()
        heals = []
        for g, rec in list(self.greenlets.items()):
            if g is current:
                continue
            fault = next(f for f in self.faults if self.records[f.spec.name] is rec)
            heals.append(gevent.spawn(self._stop_and_heal, g, rec, fault))
        gevent.joinall(heals)

    def _stop_and_heal(self, g, rec: FaultRecord, fault) -> None:
        deadline = time.monotonic() + 60
        while rec.busy and time.monotonic() < deadline:  # inside inject() or heal(): let that step finish
            gevent.sleep(0.02)
        g.kill(block=True)
        self._heal(fault)

    def last_heal(self) -> float | None:
        times = [r.healed_at for r in self.records.values() if r.healed_at]
        return max(times) if times else None

    def report(self) -> list[dict]:
        return [r.to_dict(self.t0_wall or 0.0) for r in self.records.values()]
