"""One proxied connection: a client socket, its upstream socket, and a pipe per direction.

With no toxic on its stream, a pipe is relayed by the native relay thread (relay.py: the fast path). Once a
toxic applies, it reads with one greenlet and writes with another, applying the toxics active on its stream
at the moment each chunk is written, so adding or removing a toxic acts on open connections without
dropping them; once its chain is empty and its queue drained, it goes back to the relay.
"""
import random
import socket
import struct
import time

import gevent
from gevent.event import Event
from gevent.queue import Queue

from .relay import get_relay
from .toxics import DOWNSTREAM, UPSTREAM
from .toxics.registry import CLOSE_AFTER, DROP, END

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
        self.relay = get_relay()
        self.pipes = [Pipe(self, UPSTREAM, client, upstream), Pipe(self, DOWNSTREAM, upstream, client)]

    def start(self) -> None:
        for pipe in self.pipes:
            if self.relay is not None and not self.active(pipe.stream):
                self.relay.adopt(pipe)
            else:
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
        for pipe in self.pipes:
            if pipe.fast and self.active(pipe.stream):
                pipe.to_greenlets()
        self.sync_timers()

    def sync_timers(self) -> None:
        """A timeout toxic closes the connection after its timeout whether or not data flows."""
        if self.closed:
            return
        wanted = {t.serial: after for s in (UPSTREAM, DOWNSTREAM) for t in self.active(s)
                  if (after := t.kind.closes_after(t)) is not None}
        for serial in list(self.timers):
            if serial not in wanted:
                self.timers.pop(serial).kill(block=False)
        for serial, after in wanted.items():
            if serial not in self.timers:
                self.timers[serial] = gevent.spawn_later(after, self.close)

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
        for pipe in self.pipes:
            pipe.to_greenlets(start=False)  # the relay thread must let go of the fds before they close
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
        self.src_fd, self.dst_fd = src.fileno(), dst.fileno()
        self.fast = False  # held by the relay thread (which alone changes it then, under its lock)
        self.pending = b""  # read by the relay thread, not yet written
        self.queue: Queue = Queue(maxsize=64)
        self.busy = False
        self.finished = False
        self.bandwidth_clock = 0.0
        self.limit_sent: dict[int, int] = {}
        self.greenlets: list = []

    def start(self, pending: bytes = b"") -> None:
        """Runs this direction in greenlets; `pending` (bytes the relay read but did not write) goes first."""
        self.queue = Queue(maxsize=64)
        if pending:
            self.queue.put((time.monotonic(), pending))
        self.greenlets = [gevent.spawn(self.read_loop), gevent.spawn(self.write_loop)]

    def to_greenlets(self, start: bool = True) -> None:
        """Takes this direction back from the relay thread (a toxic now applies, or the connection closes)."""
        if self.fast and self.conn.relay is not None:
            pending = self.conn.relay.release(self)
            if pending is not None and start:
                self.start(pending)

    def fast_path_ended(self) -> None:
        """The relay thread saw the source end: close the destination the way the greenlet pipeline does."""
        if not self.conn.closed:
            self.end_of_stream()

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
                    if self.hand_back():
                        return
                else:
                    self.queue.put((time.monotonic(), data))
        except OSError:
            pass  # reset or closed: end this direction like an EOF
        self.queue.put(None)

    def hand_back(self) -> bool:
        """With no toxic left and nothing queued, the relay thread takes this direction over again."""
        relay = self.conn.relay
        if relay is None or self.conn.closed or self.busy or not self.queue.empty() or self.conn.active(self.stream):
            return False
        writer = self.greenlets[1]
        writer.kill(block=True)  # it waits on the empty queue: nothing of it is lost
        relay.adopt(self)
        return True

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
            toxic.kind.end_of_stream(toxic, self)
        self.finish()

    def finish(self) -> None:
        self.finished = True
        for pipe in self.conn.pipes:
            pipe.to_greenlets()  # the relay must let go of dst before it closes; the other pipe then sees it
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
            pieces, verdict = toxic.kind.chunk(toxic, self, arrived, pieces)
            if verdict == DROP:
                return True
            if verdict == END:
                return False
            close_after = close_after or verdict == CLOSE_AFTER
        for not_before, piece, toxic in pieces:
            if not_before:
                self.conn.wait(not_before, toxic)
            if piece:
                self.dst.sendall(piece)
        if close_after:
            self.finish()
            return False
        return True
