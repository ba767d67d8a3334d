"""Toxics act on live connections under load within 50 ms of the API call's return, and lose no byte.

Streams of known bytes go both ways through a link to a real echo server (a separate process) while
toxics come and go; every byte that comes back is compared with what was sent. Meanwhile a probe
connection times small round trips, so the moment a change takes effect can be read off its timeline.
"""
import random
import socket
import subprocess
import sys
import threading
import time

import pytest

from helpers import wait_for
from proxy_client import Api

BOUND = 0.050  # a change applies within 50 ms of the API call's return
LATENCY_MS = 300
ECHO_SERVER = r'''
import socket, sys, threading
def serve(conn):
    with conn:
        try:
            while data := conn.recv(65536):
                conn.sendall(data)
        except OSError:
            pass  # the test dropped or the proxy reset the connection
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'''


@pytest.fixture
def echo_addr():
    proc = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        yield f"127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


class Stream:
    """One connection carrying a seeded byte stream out and checking the echo byte for byte."""

    def __init__(self, port: int, seed: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sent, self.received, self.errors = 0, 0, []
        self.closing = False
        self.out_rng, self.in_rng = random.Random(seed), random.Random(seed)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.send_loop), threading.Thread(target=self.receive_loop)]
        for t in self.threads:
            t.start()

    def send_loop(self):
        try:
            while not self.stop.is_set():
                block = self.out_rng.randbytes(self.out_rng.randint(1, 16384))
                self.sock.sendall(block)
                self.sent += len(block)
                time.sleep(0.002)  # pacing, so the probe's round trips are not starved of CPU
        except OSError as err:
            self.errors.append(f"send: {err!r}")

    def receive_loop(self):
        expected = b""
        try:
            while chunk := self.sock.recv(65536):
                while len(expected) < len(chunk):
                    expected += self.in_rng.randbytes(self.in_rng.randint(1, 16384))
                if chunk != expected[:len(chunk)]:
                    self.errors.append(f"bytes differ after {self.received} bytes")
                    return
                expected = expected[len(chunk):]
                self.received += len(chunk)
        except OSError as err:
            if not self.closing:
                self.errors.append(f"receive: {err!r}")
        if not self.closing:
            self.errors.append(f"connection ended after {self.received} bytes")

    def finish(self):
        """Stops sending, waits for the echo of everything sent, then closes."""
        self.stop.set()
        self.threads[0].join(30)
        deadline = time.monotonic() + 20
        while self.received < self.sent and not self.errors and time.monotonic() < deadline:
            time.sleep(0.01)
        self.closing = True
        self.sock.shutdown(socket.SHUT_RDWR)
        self.threads[1].join(30)
        self.sock.close()


class Probe:
    """Back-to-back 16-byte round trips, each logged as (start, end)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.log, self.errors = [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop)
        self.thread.start()

    def loop(self):
        n = 0
        try:
            while not self.stop.is_set():
                msg = f"probe{n:011d}".encode()
                start = time.perf_counter()
                self.sock.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    got += self.sock.recv(64) or b"!EOF"
                if got != msg:
                    self.errors.append(f"probe {n}: sent {msg!r}, got {got!r}")
                    return
                self.log.append((start, time.perf_counter()))
                n += 1
        except OSError as err:
            self.errors.append(repr(err))

    def after(self, t: float) -> list[tuple[float, float]]:
        return [(s, e) for s, e in list(self.log) if s >= t]

    def finish(self):
        self.stop.set()
        self.thread.join(30)
        self.sock.close()


def round_trip(sock) -> float:
    start = time.perf_counter()
    sock.sendall(b"check")
    got = b""
    while len(got) < 5:
        got += sock.recv(16) or b"!EOF"
    assert got == b"check", got
    return time.perf_counter() - start


def timed(api: Api, method: str, path: str, body=None):
    status, data = api.call(method, path, body)
    assert status in (200, 204), data
    return time.perf_counter()


def test_toxics_come_and_go_on_live_connections_within_50ms_and_lose_no_byte(proxy_server, echo_addr):
    api = Api(proxy_server)
    port = api.proxy("echo", echo_addr)
    streams = [Stream(port, seed) for seed in range(4)]
    probe = Probe(port)
    check = socket.create_connection(("127.0.0.1", port), timeout=10)
    slow = LATENCY_MS / 1000 * 0.9
    try:
        wait_for(lambda: len(probe.log) >= 50 and all(s.received > 100_000 for s in streams), 20, "traffic")
        for stream_name in ("downstream", "upstream", "downstream"):
            added = timed(api, "POST", "/proxies/echo/toxics", {"name": "lat", "type": "latency",
                                                                "stream": stream_name,
                                                                "attributes": {"latency": LATENCY_MS}})
            took = round_trip(check)  # the first round trip after the call returns, on an idle connection
            assert took >= slow, f"{stream_name}: a round trip right after the call took {1000 * took:.1f} ms"
            wait_for(lambda: len(probe.after(added + BOUND)) >= 2, 10, "delayed round trips")
            late = probe.after(added + BOUND)
            assert all(e - s >= slow for s, e in late), f"{stream_name}: round trips not delayed: {late}"

            removed = timed(api, "DELETE", "/proxies/echo/toxics/lat")
            took = round_trip(check)
            assert took < slow / 2, f"{stream_name}: a round trip right after the removal took {1000 * took:.1f} ms"
            wait_for(lambda: len(probe.after(removed + BOUND)) >= 20, 10, "round trips after removal")
            done = [e for _, e in list(probe.log) if e >= removed]
            assert done[0] - removed <= BOUND, \
                f"the held round trip came back {1000 * (done[0] - removed):.1f} ms after the removal"
            quick = probe.after(removed + BOUND)
            assert all(e - s < slow / 2 for s, e in quick), f"round trips still delayed: {quick}"

        sliced = timed(api, "POST", "/proxies/echo/toxics", {"name": "sl", "type": "slicer", "stream": "upstream",
                                                             "attributes": {"average_size": 1000, "size_variation": 300,
                                                                            "delay": 50}})
        wait_for(lambda: len(probe.after(sliced)) >= 20, 10, "sliced round trips")
        timed(api, "DELETE", "/proxies/echo/toxics/sl")
        counts = [s.received for s in streams]
        wait_for(lambda: all(s.received > c + 100_000 for s, c in zip(streams, counts)), 20, "traffic after")
    finally:
        probe.finish()
        check.close()
        for s in streams:
            s.finish()
    assert probe.errors == [] and len(probe.log) > 100, probe.errors
    for s in streams:
        assert s.errors == [], s.errors
        assert s.sent == s.received > 1_000_000, (s.sent, s.received)  # every byte came back, in order


def test_down_and_up_apply_within_50ms(proxy_server, echo_addr):
    api = Api(proxy_server)
    port = api.proxy("echo", echo_addr)
    probe = Probe(port)
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    ended = []
    watcher = threading.Thread(target=lambda: ended.append((_recv_end(idle), time.perf_counter())))
    watcher.start()
    try:
        wait_for(lambda: len(probe.log) >= 50, 10, "round trips")
        down = timed(api, "POST", "/proxies/echo", {"enabled": False})
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        watcher.join(5)
        probe.thread.join(5)
        assert ended and ended[0][1] - down <= BOUND, f"an idle connection ended {ended} (down at {down})"
        assert probe.errors, "the busy connection survived the proxy going down"
        assert not probe.after(down + BOUND), "round trips went on after the proxy went down"

        up = timed(api, "POST", "/proxies/echo", {"enabled": True})
        again = Probe(port)
        wait_for(lambda: again.log, 5, "a round trip after up")
        assert again.log[0][1] - up <= BOUND, f"first round trip after up: {1000 * (again.log[0][1] - up):.1f} ms"
        again.finish()
        assert again.errors == []
    finally:
        probe.finish()
        idle.close()


def _recv_end(sock) -> str:
    try:
        return "eof" if sock.recv(1) == b"" else "data"
    except OSError as err:
        return repr(err)
