"""The live line on a terminal: the countdown stops at 0, and a log record never lands on the end of the line
(rendered the way a terminal does it: carriage return, erase-to-end, overwrite)."""
import io
import logging
import time
from types import SimpleNamespace

import numpy as np

from chaos_hooks.report.live import LiveLine, line


class Tty(io.StringIO):
    def isatty(self):
        return True


def terminal(text: str) -> list[str]:
    """The screen's lines after writing text: \\r goes to column 0, ESC[K erases to the end of the line."""
    screen, row, col = [[]], 0, 0
    i = 0
    while i < len(text):
        if text.startswith("\033[K", i):
            del screen[row][col:]
            i += 3
            continue
        ch = text[i]
        if ch == "\r":
            col = 0
        elif ch == "\n":
            screen.append([])
            row, col = row + 1, 0
        else:
            cells = screen[row]
            cells.extend(" " * (col + 1 - len(cells)))
            cells[col] = ch
            col += 1
        i += 1
    return ["".join(r).rstrip() for r in screen]


def controller(now):
    rec = SimpleNamespace(name="kill-worker", injected_at=now - 12, healed_at=None, at_s=5.0, heal_after_s=5.0,
                          error=None)
    store = SimpleNamespace(n=3, columns=lambda: {"outcome": np.array([0, 0, 1])})
    return SimpleNamespace(scheduler=SimpleNamespace(t0_wall=now - 20, records={"k": rec}), store=store)


def test_the_countdown_never_goes_below_zero():
    now = time.time()
    text = line(controller(now), now)  # the heal is 10 s overdue
    assert "kill-worker 0s left" in text and "-1" not in text


def test_log_records_start_a_line_of_their_own():
    now = time.time()
    stream = Tty()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    live = LiveLine(controller(now), stream, width=100)
    try:
        live.start()
        live.draw(now)
        logging.getLogger("locust_chaos.test").warning("a record")
        live.draw(now)
        live.stop()
    finally:
        root.removeHandler(handler)
    lines = [l for l in terminal(stream.getvalue()) if l]
    assert lines == ["a record", line(controller(now), now)[:99]]
    assert all(len(l) < 100 for l in lines)
