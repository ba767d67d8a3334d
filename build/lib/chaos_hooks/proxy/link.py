"""One proxied connection: a client socket, its upstream socket, and a pipe per direction.

Each pipe reads with one greenlet and writes with another, applying the toxics active on its stream
at the moment each chunk is written, so adding or removing a toxic acts on open connections without
dropping them. With no toxic on a stream, the reader writes straight through (the fast path).
"""
import random
import socket
import struct
import time

import gevent
from gevent.event import Event
from gevent.queue import Queue

from .toxics import DOWNSTREAM, UPSTREAM

CHUNK = 65536
_LINGER_RST = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a TCP RST


class Connection:
    def __init__(self, proxy, client: socket.socket, upstream: socket.socket):
        self.proxy = proxy
        self.client, self.upstream = client, upstream
        self.draws: dict[int, bool] = {}  # toxic serial -> applies to this connection (toxicity, drawn once)
        self.changed = Event()
        self.closed = False
        self.done = Event()
        self.timers: dict[int, gevent.Greenlet] = {}
        self.pipes = [Pipe(self, UPSTREAM, client, upstream), Pipe(self, DOWNSTREAM, upstream, client)]

    def start(self) -> None:
        for pipe in self.pipes:
            pipe.start()
        self.sync_timers()

    def hit(self, toxic) -> bool:
        drawn = self.draws.get(toxic.serial)
        if drawn is None:
            drawn = self.draws[toxic.serial] = toxic.toxicity >= 1.0 or random.random() < toxic.toxicity
        return drawn

    def active(self, stream: str) -> list:
        return [t for t in self.proxy.chain(stream) if self.hit(t)]

    def is_active(self, toxic) -> bool:
        return any(t.serial == toxic.serial for t in self.proxy.chain(toxic.stream)) and self.hit(toxic)

    def chain_changed(self) -> None:
        """Wake every wait in this connection's pipes: each re-checks whether its toxic is still there."""
        old, self.changed = self.changed, Event()
        old.set()
        self.sync_timers()

    def sync_timers(self) -> None:
        """A timeout toxic closes the connection after its timeout whether or not data flows."""
        if self.closed:
            return
        wanted = {t.serial: t for s in (UPSTREAM, DOWNSTREAM) for t in self.active(s)
                  if t.type == "timeout" and t.attr("timeout") > 0}
        for serial in list(self.timers):
            if serial not in wanted:
                self.timers.pop(serial).kill(block=False)
        for serial, toxic in wanted.items():
            if serial not in self.timers:
                self.timers[serial] = gevent.spawn_later(toxic.attr("timeout") / 1000.0, self.close)

    def wait(self, until: float, toxic) -> bool:
        """Sleeps until the monotonic time `until` unless the toxic is removed first. True if it slept fully."""
        while not self.closed:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return True
            self.changed.wait(remaining)
            if toxic is not None and not self.is_active(toxic):
                return False
        return False

    def pipe_finished(self) -> None:
        if all(p.finished for p in self.pipes):
            self.close()

    def close(self, reset: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        for sock in (self.client, self.upstream):
            try:
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
                sock.close()
            except OSError:
                pass
        for timer in self.timers.values():
            timer.kill(block=False)
        current = gevent.getcurrent()
        for pipe in self.pipes:
            pipe.kill(current)
        self.proxy.forget(self)
        self.changed.set()
        self.done.set()


class Pipe:
    """One direction of a connection: src -> toxics -> dst."""

    def __init__(self, conn: Connection, stream: str, src, dst):
        self.conn, self.stream, self.src, self.dst = conn, stream, src, dst
        self.queue: Queue = Queue(maxsize=64)
        self.busy = False
        self.finished = False
        self.bandwidth_clock = 0.0
        self.limit_sent: dict[int, int] = {}
        self.greenlets: list = []

    def start(self) -> None:
        self.greenlets = [gevent.spawn(self.read_loop), gevent.spawn(self.write_loop)]

    def kill(self, current) -> None:
        for g in self.greenlets:
            if g is not current:
                g.kill(block=False)

    def read_loop(self) -> None:
        try:
            while True:
                data = self.src.recv(CHUNK)
                if not data:
                    break
                if not self.busy and self.queue.empty() and not self.conn.active(self.stream):
                    self.dst.sendall(data)  # no toxic on this stream: straight through
                else:
                    self.queue.put((time.monotonic(), data))
        except OSError:
            pass  # reset or closed: end this direction like an EOF
        self.queue.put(None)

    def write_loop(self) -> None:
        try:
            while True:
                item = self.queue.get()
                self.busy = True
                if item is None:
                    self.end_of_stream()
                    return
                if not self.forward(*item):
                    return
                self.busy = False
        except OSError:
            self.conn.close()

    def end_of_stream(self) -> None:
        """The source closed: close the destination (after slow_close's delay), as Toxiproxy does."""
        for toxic in self.conn.active(self.stream):
            if toxic.type == "slow_close":
                self.conn.wait(time.monotonic() + toxic.attr("delay") / 1000.0, toxic)
        self.finish()

    def finish(self) -> None:
        self.finished = True
        try:
            self.dst.close()
        except OSError:
            pass
        self.conn.pipe_finished()

    def forward(self, arrived: float, data: bytes) -> bool:
        """Applies the current chain to one chunk and writes it. False when the pipe is done."""
        pieces = [(0.0, data, None)]  # (not_before, bytes, toxic that set not_before)
        close_after = False
        for toxic in self.conn.active(self.stream):
            kind = toxic.type
            if kind == "latency":
                self.conn.wait(arrived + self.latency(toxic), toxic)
            elif kind == "bandwidth" and toxic.attr("rate") > 0:
                pieces = self.bandwidth(pieces, toxic)
            elif kind == "slicer":
                pieces = self.slicer(pieces, toxic)
            elif kind == "limit_data":
                pieces, close_after = self.limit(pieces, toxic)
            elif kind == "timeout":
                return True  # data dropped; the connection's timer closes it (never, for 0)
            elif kind == "reset_peer":
                if self.conn.wait(time.monotonic() + toxic.attr("timeout") / 1000.0, toxic):
                    self.conn.close(reset=True)
                    return False
        for not_before, piece, toxic in pieces:
            if not_before:
                self.conn.wait(not_before, toxic)
            if piece:
                self.dst.sendall(piece)
        if close_after:
            self.finish()
            return False
        return True

    @staticmethod
    def latency(toxic) -> float:
        delay = toxic.attr("latency")
        jitter = toxic.attr("jitter")
        if jitter > 0:
            delay += random.randint(-jitter, jitter)
        return max(delay, 0) / 1000.0

    def bandwidth(self, pieces, toxic):
        """rate KB/s: each piece of at most 100 ms worth goes when the byte budget allows."""
        bytes_per_s = toxic.attr("rate") * 1000.0
        step = max(int(bytes_per_s / 10), 1)
        out = []
        self.bandwidth_clock = max(self.bandwidth_clock, time.monotonic())
        for not_before, data, _ in pieces:
            for i in range(0, len(data), step):
                part = data[i:i + step]
                self.bandwidth_clock = max(self.bandwidth_clock, not_before) + len(part) / bytes_per_s
                out.append((self.bandwidth_clock, part, toxic))
        return out

    @staticmethod
    def slicer(pieces, toxic):
        avg, var, delay_us = toxic.attr("average_size"), toxic.attr("size_variation"), toxic.attr("delay")
        if avg <= 0:
            return pieces
        out = []
        clock = time.monotonic()
        for not_before, data, setter in pieces:
            clock = max(clock, not_before)
            i = 0
            while i < len(data):
                size = max(1, avg + (random.randint(-var, var) if var > 0 else 0))
                out.append((clock, data[i:i + size], setter if i == 0 else toxic))
                clock += delay_us / 1e6
                i += size
        return out

    def limit(self, pieces, toxic):
        """limit_data: pass at most `bytes` on this stream, then close."""
        budget = toxic.attr("bytes") - self.limit_sent.get(toxic.serial, 0)
        out = []
        for not_before, data, setter in pieces:
            if budget <= 0:
                break
            part = data[:budget]
            out.append((not_before, part, setter))
            budget -= len(part)
        self.limit_sent[toxic.serial] = toxic.attr("bytes") - max(budget, 0)
        return out, budget <= 0
