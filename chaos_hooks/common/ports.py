"""Free loopback ports for the servers, proxies and Locust masters the harness starts.

A port is chosen outside the kernel's ephemeral range (net.ipv4.ip_local_port_range), never by bind(0): a port
from that range may be handed to any outgoing connection between the moment it is chosen and the moment its
server binds it, and that server (or a fault proxy's link restarted with the same port) then fails with
"address already in use" for as long as the connection lives. Only a program binding a fixed port can take
one chosen here."""
import random
import socket
import threading

LOWEST = 20000  # below this are the standard ports of datastores and brokers that may start later
EPHEMERAL_FALLBACK = (32768, 60999)  # Linux's default, when /proc cannot be read

_draw = random.SystemRandom()  # a seeded run's random.seed() must not make two processes draw the same ports
_given: set[int] = set()
_lock = threading.Lock()


def ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return EPHEMERAL_FALLBACK


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing is bound to on `host` now, outside the ephemeral range, not given before by this process."""
    low, high = ephemeral_range()
    below, above = range(LOWEST, max(LOWEST, low)), range(max(LOWEST, high + 1), 65536)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200):
        n = _draw.randrange(len(below) + len(above))  # each port outside the range equally likely
        port = below[n] if n < len(below) else above[n - len(below)]
        with _lock:
            if port in _given:
                continue
            if _bindable(family, host, port):
                _given.add(port)
                return port
    with socket.socket(family) as s:  # every draw taken: a crowded machine; the kernel's choice then
        s.bind((host, 0))
        return s.getsockname()[1]


def _bindable(family, host: str, port: int) -> bool:
    with socket.socket(family) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
