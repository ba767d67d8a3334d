"""Publishers of per-key event sequences to the event pipeline, every publish recorded in the chaos history.

Each user owns a few stream keys and publishes seq 0, 1, 2, ... on each, the next only after the previous
was acknowledged (a publish whose outcome is unknown is sent again once, with the same seq: the ingest
deduplicates it). The run id rides in the payload, so the checks read only this run's events.

    locust-chaos run event-consumer-crash
"""
import random

from locust import FastHttpUser, task

from chaos_hooks import history, run
from chaos_hooks.history import INFO


class EventUser(FastHttpUser):
    network_timeout = 5.0
    connection_timeout = 2.0
    wait_time = run.wait_time

    def on_start(self):
        self.next_seq = {history.new_key(): 0 for _ in range(int(run.values.get("keys_per_user", 3)))}

    @task
    def publish(self):
        key = random.choice(list(self.next_seq))
        seq = self.next_seq[key]
        outcome = self.send(key, seq)
        if outcome == INFO:
            outcome = self.send(key, seq, name="/events (retry)")
        self.next_seq[key] = seq + 1

    def send(self, key: str, seq: int, name: str = "/events") -> int:
        with history.operation("publish", key, seq=seq) as op:
            with self.client.post("/events", json={"stream_key": key, "seq": seq, "payload": {"run": run.id}},
                                  name=name, catch_response=True) as resp:
                op.from_http(resp, ok={200}, fail={400, 413}, id=lambda r: r.json()["event_id"])
                if resp.status_code != 200:
                    resp.failure(f"{resp.status_code} {getattr(resp, 'error', None) or ''}".strip())
        return op.outcome
