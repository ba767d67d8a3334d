"""Users of the holds service: each hold is one operation in the chaos history."""
from locust import FastHttpUser, task

from chaos_hooks import history, run


class HoldUser(FastHttpUser):
    wait_time = run.wait_time  # the scenario's load.wait

    @task
    def hold(self):
        key = history.new_key()  # tagged with this load generator
        with history.operation("hold", key) as op:
            with self.client.post("/holds", json={"sku": run.values["sku"]}, headers={"Idempotency-Key": key},
                                  catch_response=True) as resp:
                op.from_http(resp, ok={200}, fail={404, 409}, id=lambda r: r.json()["hold_id"])
                if resp.status_code == 409:
                    resp.success()  # out of stock is an answer, not an error
