"""The recorded user of bench/harness_overhead.py: the plain user's POST, every one recorded in the chaos history
(history.operation + op.from_http, as locustfiles/shop.py does). The run's verdict needs one invariant: this
module registers a trivial one, so no datastore is read."""
from locust import FastHttpUser, constant, task

from chaos_hooks import history
from chaos_hooks.invariants import VALID, Result, register


@register("bench_recorded")
def bench_recorded(hist, reads, params):
    return Result("bench_recorded", VALID, "recorded")


class RecordedUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def order(self):
        key = history.new_key()
        with history.operation("order", key) as op:
            with self.client.post("/orders", json={"product_id": "p1"}, headers={"Idempotency-Key": key},
                                  catch_response=True) as resp:
                op.from_http(resp, ok={202}, fail={409}, id=lambda r: r.json()["order_id"])
                if resp.status_code == 202:
                    resp.success()
                else:
                    resp.failure(str(resp.status_code))
