"""Consumer catch-up, measured by the harness from what the system shows, never from its own waits.

From the end of the load a greenlet samples the backlog (the `backlog` read) and the number of kept rows (the
`persisted` read, counted). Once the history is complete the verifier asks: is everything acknowledged kept?
The catch-up moment is the first sample from which the backlog stayed empty and the row count stayed at its
final value, for at least QUIET_S. Waiting ends at the bound, or once the backlog is empty and nothing new is kept for `settle` s
(acknowledged operations missing then will never arrive).

Per fault: the backlog the moment before its heal, and the seconds from the heal until that backlog drained.
"""
import logging
import time
from dataclasses import dataclass, field

import gevent

from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.reads import as_number

log = logging.getLogger("locust_chaos.catchup")
POLL_S = 0.1
# Caught up means it stays so: requests clients abandoned at the end of the load may still be finishing
# inside the system. The figure is the start of this quiet stretch, not its end.
QUIET_S = 0.5


@dataclass
class CatchUp:
    since: float
    caught_up: bool = False
    seconds: float | None = None
    waited_s: float = 0.0
    reason: str = ""
    unreadable: bool = False  # the backlog/rows could never be read: undecided, not failed
    faults: list = field(default_factory=list)
    # Not caught up: what the backlog did at the end. "stuck" (it did not move for STUCK_S), "draining"
    # (it still moved), "empty" (nothing queued, acknowledged operations still missing: they are lost).
    state: str = ""
    backlog: int | None = None
    rate: float = 0.0                # entries (or rows) per second over the last stretch, when draining
    stuck_s: float = 0.0             # how long it has not moved, when stuck
    missing: int | None = None       # acknowledged operations not kept, last counted
    holders: list = field(default_factory=list)
    in_flight_keys: list | None = None  # keys of this run still queued (None: not readable)
    in_flight_source: str = ""       # which read named them
    before: int | None = None        # backlog from before the run, at its start (reported, never counted)
    before_now: int | None = None    # and still queued at the end


def count_rows(read, ctx) -> int:
    counter = getattr(read, "count", None)
    return counter(ctx) if counter else read.rows(ctx).n


def read_state(read, ctx, keys: bool = True):
    """The backlog read's full state (count, before, holders, keys) when it can give one, else its count."""
    from chaos_hooks.reads.backlog_state import BacklogState
    if hasattr(read, "state"):
        return read.state(ctx, keys=keys)
    return BacklogState(int(as_number(read.value(ctx), "backlog")))


class CatchUpWatch:
    def __init__(self, profile, ctx, since: float):
        self.backlog_read = profile.read("backlog")
        self.rows_read = profile.read("persisted")
        self.in_flight_read = profile.read("in_flight")
        self.ctx = ctx
        self.since = since
        self.samples: list[tuple[float, int | None, int | None]] = []  # (time, backlog, rows)
        self.errors: list[str] = []
        self.greenlet = None

    @property
    def observable(self) -> bool:
        """Whether anything can show the system catching up: a backlog read or a persisted read."""
        return self.backlog_read is not None or self.rows_read is not None

    def start(self) -> "CatchUpWatch":
        if self.observable:  # with nothing to read, sampling would only wake up to read nothing
            self.greenlet = gevent.spawn(self._sample_forever)
        return self

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=True)
        self.ctx.datastores.close()

    def _sample_forever(self) -> None:
        while True:
            self.sample()
            gevent.sleep(POLL_S)

    def sample(self) -> None:
        """One observation; a read that fails leaves its part unknown (None) and is remembered."""
        backlog = rows = None
        ok = False
        for read, kind in ((self.backlog_read, "backlog"), (self.rows_read, "rows")):
            if read is None:
                continue
            try:
                value = int(as_number(read.value(self.ctx), "backlog")) if kind == "backlog" else \
                    count_rows(read, self.ctx)
            except ReadFailed as err:
                self.errors.append(str(err))
                continue
            ok = True
            backlog, rows = (value, rows) if kind == "backlog" else (backlog, value)
        if ok:
            self.samples.append((time.time(), backlog, rows))

    def settled_since(self) -> float | None:
        """The first sample time from which backlog stayed 0 and rows stayed at the latest count."""
        if not self.samples:
            return None
        _, last_backlog, last_rows = self.samples[-1]
        if last_backlog not in (0, None):
            return None
        return self.still_since()

    def still_since(self) -> float | None:
        """The first sample time from which backlog and rows both stayed at their latest values."""
        if not self.samples:
            return None
        _, last_backlog, last_rows = self.samples[-1]
        start = None
        for t, backlog, rows in reversed(self.samples):
            if backlog != last_backlog or rows != last_rows:
                break
            start = t
        return start

    def rate(self, window: float = 5.0) -> float:
        """How fast the backlog shrinks (or rows grow) over the last `window` seconds, per second."""
        if len(self.samples) < 2:
            return 0.0
        t1, b1, r1 = self.samples[-1]
        first = next((s for s in self.samples if s[0] >= t1 - window), self.samples[0])
        t0, b0, r0 = first
        if t1 - t0 <= 0:
            return 0.0
        drop = (b0 - b1) if b0 is not None and b1 is not None else 0
        grew = (r1 - r0) if r0 is not None and r1 is not None else 0
        return max(drop, grew, 0) / (t1 - t0)

    def conclude(self, missing_now, bound: float, settle: float = 10.0, stuck_after: float = 5.0) -> CatchUp:
        """Waits (sampling goes on) until everything acknowledged is kept, or the bound, or a settled empty
        backlog with acknowledged operations still missing. `missing_now()` re-reads the rows and says how many
        acknowledged operations are not kept (it raises ReadFailed when they cannot be read). A backlog that
        is not empty at the bound is "stuck" when neither it nor the rows moved for `stuck_after` seconds,
        else "draining"; either way its holders and queued keys are read once more."""
        if not self.observable:  # waiting out the bound could show nothing
            return CatchUp(self.since, unreadable=True,
                           reason="not observable: the target profile has no backlog or persisted read")
        started = time.monotonic()
        deadline = max(self.since + bound + 1.0, time.time() + 1.0)
        unchecked = object()
        checked_at, missing = unchecked, None
        while True:
            if not self.samples:
                self.sample()
            settled = self.settled_since()
            latest = self.samples[-1] if self.samples else None
            now = time.time()
            final = now >= deadline
            if latest is not None and latest[2] != checked_at and (settled is not None or final):
                try:
                    missing = missing_now()
                    checked_at = latest[2]
                except ReadFailed as err:
                    self.errors.append(str(err))
            if missing == 0 and settled is not None and time.time() - settled >= QUIET_S:
                return CatchUp(self.since, True, max(settled - self.since, 0.0), time.monotonic() - started,
                               missing=0)
            quiet = settled is not None and now - settled >= settle
            if final or quiet:
                return self._not_reached(latest, missing, stuck_after, time.monotonic() - started)
            gevent.sleep(POLL_S)

    def _not_reached(self, latest, missing, stuck_after: float, waited: float) -> CatchUp:
        seen = CatchUp(self.since, False, None, waited, missing=missing)
        backlog = latest[1] if latest is not None else None
        if backlog is None:  # the backlog could never be read (or there is no backlog read)
            seen.unreadable = True
            seen.reason = (f"unreadable: {self.errors[-1]}" if self.errors else
                           f"backlog unknown, {missing if missing is not None else 'unknown'} acknowledged not kept")
            return seen
        try:
            state = read_state(self.backlog_read, self.ctx)
            backlog = state.count
            seen.holders, seen.in_flight_keys, seen.before_now = state.holders, state.keys, state.before
            seen.in_flight_source = "backlog" if state.keys is not None else ""
        except ReadFailed as err:
            self.errors.append(str(err))
        if seen.in_flight_keys is None and self.in_flight_read is not None:
            try:
                rows = self.in_flight_read.rows(self.ctx)
                seen.in_flight_keys = [str(k) for k in rows.strings("key", range(rows.n))]
                seen.in_flight_source = "in_flight"
            except ReadFailed as err:
                self.errors.append(str(err))
        seen.backlog = backlog
        still = self.still_since()
        if backlog == 0:
            seen.state = "empty"
            seen.reason = f"backlog 0, {missing if missing is not None else 'unknown'} acknowledged not kept"
        elif still is not None and latest[0] - still >= stuck_after:
            seen.state, seen.stuck_s = "stuck", latest[0] - still
            seen.reason = f"stuck at {backlog} for {seen.stuck_s:.1f}s" + \
                (f" (held by {'; '.join(seen.holders)})" if seen.holders else "")
        else:
            seen.state, seen.rate = "draining", self.rate()
            seen.reason = f"backlog {backlog}, draining at {seen.rate:.1f}/s"
        if missing is None:
            seen.unreadable = seen.state == "empty"
        return seen


class DrainWatch:
    """Per fault: the backlog just before its heal and how long after the heal it took to drain."""

    def __init__(self, profile, ctx, limit_s: float = 300.0):
        self.read = profile.read("backlog")
        self.ctx = ctx
        self.limit_s = limit_s
        self.greenlets: list = []

    def before_heal(self, rec) -> None:
        if self.read is None:
            return
        try:
            rec.facts["backlog_at_heal"] = int(as_number(self.read.value(self.ctx), "backlog"))
        except ReadFailed:
            pass  # the datastore may be what is being healed: the drain watch still reports

    def after_heal(self, rec) -> None:
        if self.read is not None and "backlog_at_heal" in rec.facts:
            self.greenlets.append(gevent.spawn(self._measure, rec))

    def _measure(self, rec, poll: float = 0.05) -> None:
        deadline = time.monotonic() + self.limit_s
        while time.monotonic() < deadline:
            try:
                if int(as_number(self.read.value(self.ctx), "backlog")) == 0:
                    rec.facts["backlog_drained_s"] = round(time.time() - rec.healed_at, 3)
                    return
            except ReadFailed:
                pass
            gevent.sleep(poll)

    def stop(self) -> None:
        gevent.killall(self.greenlets, block=True)
        self.ctx.datastores.close()
