"""The embedded Toxiproxy-compatible server: in-process (a greenlet) or standalone (`locust-chaos proxy`)."""
import logging
import os
import signal

import gevent
from gevent.pywsgi import WSGIServer

from .api import ProxyCollection, ToxiproxyApp

log = logging.getLogger("locust_chaos.proxy")


class ProxyServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 8474):
        self.collection = ProxyCollection()
        self.http = WSGIServer((host, port), ToxiproxyApp(self.collection), log=None, error_log=None)

    @property
    def url(self) -> str:
        host, port = self.http.address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "ProxyServer":
        """Starts serving in a greenlet of this process; the API port is bound when this returns."""
        self.http.start()
        return self

    def stop(self) -> None:
        self.collection.close()
        self.http.stop(timeout=1)


def serve_forever(host: str, port: int, pidfile: str | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = ProxyServer(host, port)
    try:
        server.start()
    except OSError as err:
        from ..errors import TargetUnreachable
        reason = os.strerror(err.errno) if err.errno else str(err)  # gevent's strerror repeats the address
        raise TargetUnreachable(f"cannot listen on {host}:{port}: {reason}") from None
    if pidfile:
        from shop.pidfile import write_pidfile
        write_pidfile(pidfile)
    print(f"locust-chaos proxy: Toxiproxy-compatible API on {server.url}", flush=True)
    stopped = gevent.event.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, stopped.set)
    stopped.wait()
    server.stop()
