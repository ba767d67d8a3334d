"""The operation history. What a locustfile uses (the public API):

    from chaos_hooks import history
    with history.operation("reserve", key) as op:        # invoke
        resp = self.client.post(...)
        op.from_http(resp, ok={200, 202}, fail={409}, id=lambda r: r.json()["hold_id"])
    key = history.new_key()                               # a key tagged with this load generator

recorder.py records on each load generator; store.py holds every generator's batches on the master, by column;
view.py is what the invariants read. Importing this package loads no plugin and no Locust.
"""
from chaos_hooks.history import batch_codec  # noqa: F401  (the shipping format)
from chaos_hooks.history.recorder import (FAIL, INFO, OK, OUTCOME_NAMES, Operation, Recorder, new_key, operation,
                                          recorder, worker_tag)

__all__ = ["FAIL", "INFO", "OK", "OUTCOME_NAMES", "Operation", "Recorder", "new_key", "operation", "recorder", "worker_tag"]
