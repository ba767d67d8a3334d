"""Buyers of the flash-sale shop, every order recorded in the chaos history.

    locust-chaos run worker-crash                       # embedded shop, headless, verdict
    locust -f shop/locustfile.py --scenario flash-sale   # web UI against `locust-chaos stack up`
"""
import random
import uuid

import gevent
from locust import FastHttpUser, task

from chaos_hooks import history, run
from chaos_hooks.history import OK


class OrderUser(FastHttpUser):
    """Buys with a fresh idempotency key; retries a share of purchases with the same key, and sends a share as
    two simultaneous requests with one key (a user double-clicking)."""

    network_timeout = 5.0
    connection_timeout = 2.0
    wait_time = run.wait_time

    def on_start(self):
        self.user_id = f"user-{uuid.uuid4().hex[:10]}"

    @task
    def buy(self):
        key = history.new_key()
        if random.random() < run.setting("double_submit_share"):
            first, second = gevent.spawn(self.order, key), gevent.spawn(self.order, key)
            gevent.joinall([first, second])
            outcome = OK if OK in (first.value, second.value) else first.value
        else:
            outcome = self.order(key)
        if outcome == OK and random.random() < run.setting("retry_share"):
            self.order(key, name="/orders (retry)")

    def order(self, key: str, name: str = "/orders") -> int:
        with history.operation("order", key) as op:
            with self.client.post("/orders", json={"product_id": run.values.get("product", "item"),
                                                   "user_id": self.user_id},
                                  headers={"Idempotency-Key": key}, name=name, catch_response=True) as resp:
                op.from_http(resp, ok={202}, fail={400, 404, 409}, id=lambda r: r.json()["order_id"])
                if resp.status_code in (202, 409):
                    resp.success()  # sold out is an expected answer in a flash sale
                else:
                    resp.failure(f"{resp.status_code} {getattr(resp, 'error', None) or ''}".strip())
        return op.outcome
