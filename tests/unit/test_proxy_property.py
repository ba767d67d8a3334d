"""Property: any sequence of toxic additions and removals, once every toxic is removed, leaves the proxy
passing bytes unchanged in both directions (on the connection that lived through it, and on a new one)."""
import socket
import socketserver
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy_client import Api

# Toxics that keep a connection open (those that close it are checked on a fresh connection).
GENTLE = {
    "latency": lambda d: {"latency": d(st.integers(0, 5)), "jitter": d(st.integers(0, 2))},
    "bandwidth": lambda d: {"rate": d(st.integers(500, 5000))},
    "slicer": lambda d: {"average_size": d(st.integers(1, 64)), "size_variation": d(st.integers(0, 8)),
                         "delay": d(st.integers(0, 50))},
    "slow_close": lambda d: {"delay": d(st.integers(0, 50))},
}
HARSH = {
    "timeout": lambda d: {"timeout": d(st.integers(0, 1))},
    "reset_peer": lambda d: {"timeout": 0},
    "limit_data": lambda d: {"bytes": d(st.integers(0, 10))},
}


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture(scope="module")
def echo_addr():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def round_trip(port: int, payload: bytes, sock=None) -> bytes:
    s = sock or socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            break
        received += chunk
    if sock is None:
        s.close()
    return received


@st.composite
def toxic_sequences(draw, gentle_only: bool):
    kinds = dict(GENTLE) if gentle_only else {**GENTLE, **HARSH}
    steps, present = [], []
    for i in range(draw(st.integers(1, 8))):
        if present and draw(st.booleans()):
            steps.append(("remove", present.pop(draw(st.integers(0, len(present) - 1)))))
            continue
        kind = draw(st.sampled_from(sorted(kinds)))
        name = f"t{i}"
        steps.append(("add", {"name": name, "type": kind, "stream": draw(st.sampled_from(["upstream", "downstream"])),
                              "toxicity": draw(st.sampled_from([0.0, 0.5, 1.0])), "attributes": kinds[kind](draw)}))
        present.append(name)
    return steps


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=toxic_sequences(gentle_only=False), payload=st.binary(min_size=1, max_size=20_000),
       gentle=toxic_sequences(gentle_only=True))
def test_bytes_pass_unchanged_once_every_toxic_is_removed(proxy_server, echo_addr, steps, payload, gentle):
    api = Api(proxy_server)
    api.call("DELETE", "/proxies/echo")
    port = api.proxy("echo", echo_addr)
    survivor = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        assert round_trip(port, b"warm-up", survivor) == b"warm-up"
        for action, arg in gentle:
            apply(api, action, arg)
        assert round_trip(port, payload, survivor) == payload  # gentle toxics never corrupt or drop
        remove_all(api)
        assert round_trip(port, payload, survivor) == payload  # the connection that lived through them
        for action, arg in steps:
            apply(api, action, arg)
        remove_all(api)
        assert round_trip(port, payload) == payload  # a new connection, after any sequence
    finally:
        survivor.close()
        api.call("DELETE", "/proxies/echo")


def apply(api, action, arg):
    if action == "add":
        status, body = api.call("POST", "/proxies/echo/toxics", arg)
        assert status == 200, body
    else:
        assert api.call("DELETE", f"/proxies/echo/toxics/{arg}")[0] == 204


def remove_all(api):
    for toxic in api.call("GET", "/proxies/echo/toxics")[1]:
        apply(api, "remove", toxic["name"])
    assert api.call("GET", "/proxies/echo/toxics")[1] == []
