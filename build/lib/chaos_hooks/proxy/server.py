"""The embedded Toxiproxy-compatible server: in-process (a greenlet) or standalone (`locust-chaos proxy`)."""
import json
import logging
import os
import signal

import gevent
from gevent import socket
from gevent.pywsgi import WSGIServer

from .api import ProxyCollection, ToxiproxyApp

log = logging.getLogger("locust_chaos.proxy")


class ProxyServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 8474):
        self.collection = ProxyCollection()
        self.address = (host, port)
        self.http = None
        self.app = ToxiproxyApp(self.collection)

    @property
    def url(self) -> str:
        host, port = self.http.address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "ProxyServer":
        """Starts serving in a greenlet of this process; the API port is bound when this returns."""
        listener = socket.socket(socket.AF_INET6 if ":" in self.address[0] else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: a response written in two sends must not wait out a delayed ACK.
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            listener.bind(self.address)
            listener.listen(128)
        except OSError:
            listener.close()
            raise
        self.http = WSGIServer(listener, self.app, log=None, error_log=None)
        self.http.start()
        return self

    def stop(self) -> None:
        self.collection.close()
        if self.http is not None:
            self.http.stop(timeout=1)


def load_config(server: ProxyServer, path: str) -> None:
    """Creates the proxies a JSON file lists (the shape of POST /populate), as Toxiproxy's -config does."""
    from chaos_hooks.common.errors import ScenarioError
    from .errors import ApiError
    try:
        with open(path) as f:
            server.collection.populate(json.load(f))
    except (OSError, ValueError) as err:
        raise ScenarioError(f"{path}: cannot read proxy config: {err}") from None
    except ApiError as err:
        raise ScenarioError(f"{path}: {err.message}") from None


def serve_forever(host: str, port: int, pidfile: str | None = None, config: str | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = ProxyServer(host, port)
    try:
        server.start()
    except OSError as err:
        from chaos_hooks.common.errors import TargetUnreachable
        reason = os.strerror(err.errno) if err.errno else str(err)  # gevent's strerror repeats the address
        raise TargetUnreachable(f"cannot listen on {host}:{port}: {reason}") from None
    if config:
        load_config(server, config)
    if pidfile:
        write_pidfile(pidfile)
    print(f"locust-chaos proxy: Toxiproxy-compatible API on {server.url}", flush=True)
    stopped = gevent.event.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, stopped.set)
    stopped.wait()
    server.stop()


def write_pidfile(path: str) -> None:
    """Atomically, so a reader never sees a half-written pid."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, path)
