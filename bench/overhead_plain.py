"""The plain user of bench/harness_overhead.py: POSTs an order with a fresh key, nothing recorded."""
import uuid

from locust import FastHttpUser, constant, task


class PlainUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def order(self):
        key = uuid.uuid4().hex
        with self.client.post("/orders", json={"product_id": "p1"}, headers={"Idempotency-Key": key},
                              catch_response=True) as resp:
            if resp.status_code == 202:
                resp.success()
            else:
                resp.failure(str(resp.status_code))
