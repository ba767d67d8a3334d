"""The live line while a run goes: elapsed time, operations, acknowledged, active faults with the time left,
the next fault. On a terminal it rewrites itself every second; in a log (CI) it is a line every 5 s.

On a terminal, a log record never lands on the end of the live line: a filter on the root logger's handlers
clears the line first (the next tick draws it again below the record)."""
import logging
import shutil
import sys
import time

import gevent

from chaos_hooks.history.recorder import OK

CLEAR = "\r\033[K"  # back to column 0, erase to the end of the line


def line(ctl, now: float) -> str:
    t0 = ctl.scheduler.t0_wall or now
    cols = ctl.store.columns()
    acked = int((cols["outcome"] == OK).sum()) if len(cols["outcome"]) else 0
    active, upcoming = [], []
    for rec in ctl.scheduler.records.values():
        if rec.injected_at and not rec.healed_at:
            # The heal may run a moment late (or take a while): the countdown stops at 0, never "-2s left".
            left = (f" {max(t0 + rec.at_s + rec.heal_after_s - now, 0.0):.0f}s left"
                    if rec.heal_after_s is not None else "")
            active.append(f"{rec.name}{left}")
        elif not rec.injected_at and not rec.error:
            upcoming.append(rec)
    nxt = min(upcoming, key=lambda r: r.at_s, default=None)
    parts = [f"[chaos] +{max(now - t0, 0.0):5.1f}s", f"ops {ctl.store.n}", f"acked {acked}",
             f"active: {', '.join(active) or 'none'}"]
    if nxt is not None:
        parts.append(f"next: {nxt.name} at +{nxt.at_s:g}s")
    return "  ".join(parts)


class _ClearFirst(logging.Filter):
    """Clears the live line before a handler writes its record (a filter runs just before the emit)."""

    def __init__(self, live: "LiveLine"):
        super().__init__()
        self.live = live

    def filter(self, record) -> bool:
        self.live.clear()
        return True


class LiveLine:
    def __init__(self, ctl, stream=None, width=None):
        self.ctl = ctl
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.width = width  # None: the terminal's, read at every tick (it may be resized)
        self.greenlet = None
        self.shown = False  # the live line is on screen, unterminated
        self._filter = _ClearFirst(self)
        self._handlers: list[logging.Handler] = []

    def start(self) -> "LiveLine":
        if self.tty:
            self._handlers = list(logging.getLogger().handlers)
            for handler in self._handlers:
                handler.addFilter(self._filter)
        self.greenlet = gevent.spawn(self._loop)
        return self

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=True)
        for handler in self._handlers:
            handler.removeFilter(self._filter)
        self._handlers = []
        if self.shown:  # the last figures stay on screen, ended so that what follows starts a line of its own
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False

    def clear(self) -> None:
        if self.shown:
            self.stream.write(CLEAR)
            self.stream.flush()
            self.shown = False

    def draw(self, now: float) -> None:
        text = line(self.ctl, now)
        if self.tty:
            width = self.width or shutil.get_terminal_size().columns
            self.stream.write(CLEAR + text[:max(width - 1, 20)])  # never wraps, so CLEAR erases all of it
            self.shown = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _loop(self) -> None:
        while True:
            gevent.sleep(1.0 if self.tty else 5.0)
            self.draw(time.time())
