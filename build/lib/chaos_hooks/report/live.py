"""The live line while a run goes: elapsed time, operations, acknowledged, active faults with the time left,
the next fault. On a terminal it rewrites itself every second; in a log (CI) it is a line every 5 s."""
import sys
import time

import gevent

from chaos_hooks.history.recorder import OK


def line(ctl, now: float) -> str:
    t0 = ctl.scheduler.t0_wall or now
    cols = ctl.store.columns()
    acked = int((cols["outcome"] == OK).sum()) if len(cols["outcome"]) else 0
    active, upcoming = [], []
    for rec in ctl.scheduler.records.values():
        if rec.injected_at and not rec.healed_at:
            left = f" {t0 + rec.at_s + rec.heal_after_s - now:.0f}s left" if rec.heal_after_s is not None else ""
            active.append(f"{rec.name}{left}")
        elif not rec.injected_at and not rec.error:
            upcoming.append(rec)
    nxt = min(upcoming, key=lambda r: r.at_s, default=None)
    parts = [f"[chaos] +{now - t0:5.1f}s", f"ops {ctl.store.n}", f"acked {acked}",
             f"active: {', '.join(active) or 'none'}"]
    if nxt is not None:
        parts.append(f"next: {nxt.name} at +{nxt.at_s:g}s")
    return "  ".join(parts)


class LiveLine:
    def __init__(self, ctl, stream=None):
        self.ctl = ctl
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.greenlet = None

    def start(self) -> "LiveLine":
        self.greenlet = gevent.spawn(self._loop)
        return self

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=True)
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()

    def _loop(self) -> None:
        while True:
            gevent.sleep(1.0 if self.tty else 5.0)
            text = line(self.ctl, time.time())
            self.stream.write(f"\r{text[:160]:<160}" if self.tty else text + "\n")
            self.stream.flush()
