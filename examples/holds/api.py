"""Holds HTTP API: a plain WSGI function on gevent's WSGI server.

PUT /stock/<sku> {"units": n}; POST /holds {"sku": s} + Idempotency-Key; GET /health.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import uuid  # noqa: E402
from importlib import resources  # noqa: E402

import redis  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from .pidfile import write_pidfile  # noqa: E402
from .settings import REQUESTS_HASH, STREAM, redis_url, stock_key  # noqa: E402

MAX_BODY = 64 * 1024
_SCRIPT = resources.files(__package__).joinpath("hold.lua").read_text()
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 503: "Service Unavailable"}


class Holds:
    def __init__(self, url: str):
        # Short timeouts: with Redis gone a request should fail fast with 503, not hang.
        # A blocking pool: a burst waits for one of 64 connections instead of failing "Too many connections".
        self.redis = redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(
            url, max_connections=64, timeout=5, socket_timeout=2, socket_connect_timeout=1))
        self.hold_script = self.redis.register_script(_SCRIPT)

    def __call__(self, environ, start_response):
        try:
            status, body = self.route(environ)
        except redis.RedisError as err:
            status, body = 503, {"error": f"redis unavailable: {err}"}
        headers = []
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            headers.append(("Content-Type", "application/json"))
        headers.append(("Content-Length", str(len(payload))))
        start_response(f"{status} {_REASONS[status]}", headers)
        return [payload]

    def route(self, environ):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path.startswith("/stock/") and len(path) > len("/stock/"):
            return self.put_stock(path[len("/stock/"):], environ) if method == "PUT" else _not_allowed()
        if path == "/holds":
            return self.place_hold(environ) if method == "POST" else _not_allowed()
        if path == "/health":
            return self.health() if method == "GET" else _not_allowed()
        return 404, {"error": "not found"}

    def put_stock(self, sku, environ):
        units = _json_body(environ).get("units")
        if type(units) is not int or units < 0:  # type() rather than isinstance(): rejects true/false
            return 400, {"error": "need units (integer >= 0)"}
        self.redis.set(stock_key(sku), units)
        return 204, None

    def place_hold(self, environ):
        key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
        sku = _json_body(environ).get("sku")
        if not key or not isinstance(sku, str) or not sku:
            return 400, {"error": "need Idempotency-Key header and sku (string)"}
        outcome, hold_id = self.hold_script(keys=[stock_key(sku), REQUESTS_HASH, STREAM],
                                            args=[key, f"h-{uuid.uuid4().hex}", sku])
        outcome, hold_id = _text(outcome), _text(hold_id)
        if outcome == "ok":
            # A repeated key answers the hold granted first (the script looked it up).
            return 200, {"hold_id": hold_id, "sku": sku}
        if outcome == "out-of-stock":
            return 409, {"error": "out of stock"}
        return 404, {"error": f"no stock set for sku {sku}"}

    def health(self):
        try:
            self.redis.ping()
        except redis.RedisError as err:
            return 503, {"ok": False, "error": f"redis unavailable: {err}"}
        return 200, {"ok": True}


def _not_allowed():
    return 405, {"error": "method not allowed"}


def _json_body(environ) -> dict:
    """The request body as a JSON object, or {} when it is absent or not an object (callers answer 400)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return {}
    if length <= 0 or length > MAX_BODY:
        return {}
    try:
        body = json.loads(environ["wsgi.input"].read(length))
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def listener(host: str, port: int) -> socket.socket:
    """Accepted sockets inherit TCP_NODELAY: a response written in two sends must not wait out the
    client's delayed ACK (40 ms on Linux), which would show up in every latency figure."""
    sock = socket.socket(socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description="Inventory holds API (example system)")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    sock = listener("127.0.0.1", args.port)
    # Written only once the port is bound, so a pidfile means "connections are accepted".
    write_pidfile(args.pidfile)
    WSGIServer(sock, Holds(redis_url()), log=None).serve_forever()


if __name__ == "__main__":
    main()
