"""A named proxy: a listener, its upstream, its open connections and its ordered toxics."""
import logging

import gevent
from gevent import socket

from .errors import TOXIC_EXISTS, TOXIC_NOT_FOUND, ApiError
from .link import Connection
from .toxics import DOWNSTREAM, UPSTREAM, Toxic

log = logging.getLogger("locust_chaos.proxy")


def split_address(address: str) -> tuple[str, int]:
    """host:port as Go writes it: [::1]:80, :8080 (all interfaces), localhost:0."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ApiError(f"invalid address {address!r}: missing port", 400)
    return host.strip("[]") or "0.0.0.0", int(port)


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str):
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics: list[Toxic] = []
        self._chains = {UPSTREAM: (), DOWNSTREAM: ()}
        self.connections: set[Connection] = set()
        self.listener = None
        self.acceptor = None

    # --- listening -----------------------------------------------------------------------------------
    def start(self) -> None:
        if self.enabled:
            return
        host, port = split_address(self.listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1024)  # a burst of new connections must queue, not be refused
        except OSError as err:
            sock.close()
            raise ApiError(f"listen tcp {self.listen}: {err.strerror or err}", 500) from None
        self.listener = sock
        self.listen = join_address(host, sock.getsockname()[1])  # port 0 became a real port
        self.enabled = True
        self.acceptor = gevent.spawn(self._accept_loop, sock)
        log.info("proxy %s listening on %s -> %s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        """Close the listener and every open connection (the 'down' fault)."""
        if not self.enabled:
            return
        self.enabled = False
        # The acceptor must be gone first: gevent defers closing a socket a greenlet still waits on, and until
        # then the kernel would go on completing handshakes on the port.
        if self.acceptor is not None:
            self.acceptor.kill(block=True)
        try:
            self.listener.close()
        except OSError:
            pass
        for conn in list(self.connections):
            conn.close()

    def _accept_loop(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            gevent.spawn(self._connect, client)

    def _connect(self, client) -> None:
        try:
            host, port = split_address(self.upstream)
            upstream = socket.create_connection((host, port), timeout=5)
            upstream.settimeout(None)
        except (OSError, ApiError) as err:
            log.warning("proxy %s: cannot reach upstream %s: %s", self.name, self.upstream, err)
            client.close()
            return
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self.enabled:
            client.close()
            upstream.close()
            return
        conn = Connection(self, client, upstream)
        self.connections.add(conn)
        conn.start()

    def forget(self, conn: Connection) -> None:
        self.connections.discard(conn)

    # --- toxics --------------------------------------------------------------------------------------
    def chain(self, stream: str) -> tuple:
        return self._chains[stream]

    def _changed(self) -> None:
        self._chains = {s: tuple(t for t in self.toxics if t.stream == s) for s in (UPSTREAM, DOWNSTREAM)}
        for conn in list(self.connections):
            conn.chain_changed()

    def find_toxic(self, name: str) -> Toxic:
        for toxic in self.toxics:
            if toxic.name == name:
                return toxic
        raise TOXIC_NOT_FOUND

    def add_toxic(self, toxic: Toxic) -> Toxic:
        if any(t.name == toxic.name for t in self.toxics):
            raise TOXIC_EXISTS
        self.toxics.append(toxic)
        self._changed()
        return toxic

    def replace_toxic(self, toxic: Toxic) -> Toxic:
        self.toxics = [toxic if t.name == toxic.name else t for t in self.toxics]
        self._changed()
        return toxic

    def remove_toxic(self, name: str) -> None:
        toxic = self.find_toxic(name)
        self.toxics.remove(toxic)
        self._changed()

    def reset_toxics(self) -> None:
        self.toxics = []
        self._changed()

    def toxics_json(self) -> list[dict]:
        # Toxiproxy lists the upstream chain, then the downstream chain.
        return [t.to_dict() for s in (UPSTREAM, DOWNSTREAM) for t in self.chain(s)]

    def to_dict(self) -> dict:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": self.enabled,
                "toxics": self.toxics_json()}
