"""Order traffic against the flash-sale shop, every operation recorded in the chaos history.

Run through the harness (`locust-chaos run NAME`) or plain Locust against a running stack:
    locust -f locustfiles --scenario worker-crash
"""
import random
import uuid

from locust import FastHttpUser, task

from chaos_hooks import plugin  # noqa: F401  (registers the chaos events and --scenario)
from chaos_hooks.history import FAIL, INFO, OK, recorder

# Outcome of a request whose answer never came: unknown, unless it provably never left.
_NEVER_SENT = (ConnectionRefusedError,)


def classify(status: int, error) -> str:
    """invoke -> ok | fail | info, from what the client was told."""
    if status == 202:
        return OK
    if 400 <= status < 500:
        return FAIL  # the shop decided: sold out, bad request, no sale
    if status == 0 and isinstance(error, _NEVER_SENT):
        return FAIL
    return INFO  # 5xx, timeout, reset: it may have been applied


class OrderUser(FastHttpUser):
    """Buys with a fresh idempotency key and retries a share of purchases with the same key."""

    network_timeout = 5.0
    connection_timeout = 2.0

    def wait_time(self):
        low, high = self.run_config.get("wait", (1.0, 1.0))
        return random.uniform(low, high)

    @property
    def run_config(self) -> dict:
        return getattr(self.environment, "chaos_run", None) or {"product_id": "item", "retry_share": 0.0}

    def on_start(self):
        self.user_id = f"user-{uuid.uuid4().hex[:10]}"

    @task
    def buy(self):
        key = uuid.uuid4().hex
        outcome = self.order(key, retry=False)
        if outcome == OK and random.random() < self.run_config.get("retry_share", 0.0):
            self.order(key, retry=True)

    def order(self, key: str, retry: bool) -> str:
        op = recorder.invoke(key, retry)
        outcome, order_id = INFO, None
        with self.client.post("/orders", json={"product_id": self.run_config["product_id"], "user_id": self.user_id},
                              headers={"Idempotency-Key": key}, name="/orders" + (" (retry)" if retry else ""),
                              catch_response=True) as resp:
            outcome = classify(resp.status_code, getattr(resp, "error", None))
            if outcome == OK:
                try:
                    order_id = resp.json().get("order_id")
                except ValueError:
                    order_id = None
            if resp.status_code in (202, 409):
                resp.success()  # sold out is an expected answer in a flash sale
            else:
                resp.failure(f"{resp.status_code} {getattr(resp, 'error', None) or ''}".strip())
        # A user killed mid-request never gets here: its op stays open and ships as info.
        recorder.complete(op, outcome, order_id, resp.status_code)
        return outcome
