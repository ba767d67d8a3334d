"""Flash-sale HTTP API: Flask on gevent's WSGI server.

POST /sale {product_id, quantity}; POST /orders {product_id, user_id} + Idempotency-Key;
GET /orders/<id>; GET /health; GET /ready.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import socket  # noqa: E402

import psycopg  # noqa: E402
import redis  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from .pidfile import write_pidfile  # noqa: E402
from .reservation import Reservations  # noqa: E402
from .settings import Settings, initial_key, stock_key  # noqa: E402

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)


def create_app(settings: Settings) -> Flask:
    app = Flask("shop")
    # A blocking pool: under a burst, requests wait (up to 5 s) for one of 64 connections instead of failing
    # with "Too many connections".
    r = redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=64, timeout=5, socket_timeout=2, socket_connect_timeout=1))
    reservations = Reservations(r, settings.bugs)

    @app.errorhandler(REDIS_ERRORS[0])
    @app.errorhandler(REDIS_ERRORS[1])
    def redis_unavailable(err):
        return jsonify(error=f"redis unavailable: {err}"), 503

    @app.post("/sale")
    def start_sale():
        body = request.get_json(silent=True) or {}
        product_id, quantity = body.get("product_id"), body.get("quantity")
        if not isinstance(product_id, str) or not product_id or not isinstance(quantity, int) or quantity < 0:
            return jsonify(error="need product_id (string) and quantity (integer >= 0)"), 400
        pipe = r.pipeline(transaction=True)
        pipe.set(stock_key(product_id), quantity)
        pipe.set(initial_key(product_id), quantity)
        pipe.execute()
        return jsonify(product_id=product_id, quantity=quantity), 201

    @app.post("/orders")
    def place_order():
        key = request.headers.get("Idempotency-Key", "")
        body = request.get_json(silent=True) or {}
        product_id, user_id = body.get("product_id"), body.get("user_id")
        if not key or not isinstance(product_id, str) or not isinstance(user_id, str):
            return jsonify(error="need Idempotency-Key header, product_id and user_id"), 400
        status, order_id = reservations.reserve(key, product_id, user_id)
        if status == "ok":
            return jsonify(order_id=order_id, status="accepted"), 202
        if status == "sold-out":
            return jsonify(error="sold out"), 409
        return jsonify(error=f"no sale for product {product_id}"), 404

    @app.get("/orders/<order_id>")
    def get_order(order_id):
        with psycopg.connect(settings.database_url, connect_timeout=2) as conn:
            row = conn.execute("SELECT order_id, idempotency_key, product_id, user_id FROM orders "
                               "WHERE order_id = %s", (order_id,)).fetchone()
        if row is None:
            return jsonify(error="no persisted order with that id (it may still be queued)"), 404
        return jsonify(dict(zip(("order_id", "idempotency_key", "product_id", "user_id"), row)))

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    @app.get("/ready")
    def ready():
        problems = {}
        try:
            r.ping()
        except REDIS_ERRORS as err:
            problems["redis"] = str(err)
        try:
            with psycopg.connect(settings.database_url, connect_timeout=1) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as err:
            problems["postgres"] = str(err).strip()
        if problems:
            return jsonify(status="unavailable", problems=problems), 503
        return jsonify(status="ready")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Flash-sale shop API (reference system under test)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s shop-api %(message)s")
    app = create_app(Settings.from_env())
    write_pidfile(args.pidfile)
    WSGIServer(listener(args.host, args.port), app, log=None).serve_forever()


def listener(host: str, port: int) -> socket.socket:
    """Accepted sockets inherit TCP_NODELAY: a response written in two sends must not wait out the
    client's delayed ACK (40 ms on Linux), which would show up in every latency figure."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


if __name__ == "__main__":
    main()
