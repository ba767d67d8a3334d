"""The operation history, as a locustfile records it: every client operation is invoke -> ok | fail | info.

    from chaos_hooks import history

    with history.operation("reserve", key) as op:        # invoke
        resp = self.client.post("/holds", json=..., headers={"Idempotency-Key": key})
        op.from_http(resp, ok={200, 202}, fail={409}, id=lambda r: r.json()["hold_id"])

`ok(id=...)` records what the system answered (the id it returned is the operation's identity: two acks with
different ids for one key are two sales); `fail()` means it certainly did not happen; `info()` that the outcome
is unknown (timeouts, resets, 5xx after the request went out) — never counted as lost. An operation left
without an outcome (an exception, a user stopped mid-request) is info. For ordered streams pass `seq=`: the
operation is then the pair (key, seq).

`history.new_key()` makes a fresh key tagged with this load generator, so that when one is lost mid-run the
rows of its unreported operations are known as "outcome unknown" instead of "never attempted".
"""
import array
import hashlib
import time
import uuid

OK, FAIL, INFO = 0, 1, 2
OUTCOME_NAMES = ("ok", "fail", "info")
_NEVER_SENT = (ConnectionRefusedError,)


def worker_tag(node_id: str) -> str:
    """A short, stable tag for a load generator, derived from its Locust node id."""
    return hashlib.sha1(node_id.encode()).hexdigest()[:8]


class Operation:
    __slots__ = ("recorder", "op_id", "outcome", "id", "status")

    def __init__(self, recorder: "Recorder", op_id: int):
        self.recorder = recorder
        self.op_id = op_id
        self.outcome = None
        self.id = None
        self.status = 0

    def ok(self, id=None, status: int = 0) -> None:  # noqa: A002  (the system's id for the operation)
        self.outcome, self.id, self.status = OK, (None if id is None else str(id)), status or self.status

    def fail(self, status: int = 0) -> None:
        self.outcome, self.status = FAIL, status or self.status

    def info(self, status: int = 0) -> None:
        self.outcome, self.status = INFO, status or self.status

    def from_http(self, resp, ok=None, fail=None, id=None) -> int:  # noqa: A002
        """Classifies a Locust/requests response. Defaults: 2xx ok, 4xx fail, refused before sending fail,
        anything else (5xx, timeouts, resets) info. `id`: a callable giving the system's id from the response."""
        status = int(getattr(resp, "status_code", 0) or 0)
        error = getattr(resp, "error", None)
        if status == 0:
            (self.fail if _never_sent(error) else self.info)(status)
        elif (status in ok) if ok is not None else 200 <= status < 300:
            ident = None
            if id is not None:
                try:
                    ident = id(resp)
                except Exception:  # acknowledged, but its id unreadable: the ack stands
                    ident = None
            self.ok(ident, status)
        elif (status in fail) if fail is not None else 400 <= status < 500:
            self.fail(status)
        else:
            self.info(status)
        return self.outcome

    def __enter__(self) -> "Operation":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.recorder.complete(self)
        return False


def _never_sent(error) -> bool:
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, _NEVER_SENT):
            return True
        error = error.__cause__ or error.__context__ or next(
            (a for a in getattr(error, "args", ()) if isinstance(a, BaseException)), None)
        seen += 1
    return False


class Recorder:
    """Process-local history of one run, kept by column so batches ship cheaply to the master."""

    def __init__(self):
        self.tag = "local"
        self.reset(None)

    def reset(self, run_id: str | None) -> None:
        self.run_id = run_id
        self._next = 0
        self._open: dict[int, tuple] = {}
        self._clear_done()
        self.total_shipped = 0

    def _clear_done(self) -> None:
        self._name, self._key, self._seq, self._id = [], [], [], []
        self._outcome = bytearray()
        self._status = array.array("h")
        self._t0, self._t1 = array.array("d"), array.array("d")

    def operation(self, name: str, key: str, seq: int | None = None) -> Operation:
        op = Operation(self, self._next)
        self._open[self._next] = (str(name), str(key), None if seq is None else int(seq), time.time())
        self._next += 1
        return op

    def complete(self, op: Operation) -> None:
        started = self._open.pop(op.op_id, None)
        if started is None:  # the run was reset or flushed while this operation was in flight
            return
        self._append(started, INFO if op.outcome is None else op.outcome, op.id, op.status, time.time())

    def _append(self, started: tuple, outcome: int, ident, status: int, t1: float) -> None:
        name, key, seq, t0 = started
        self._name.append(name)
        self._key.append(key)
        self._seq.append(seq)
        self._id.append(ident)
        self._outcome.append(outcome)
        self._status.append(max(-32768, min(32767, status)))
        self._t0.append(t0)
        self._t1.append(t1)

    def take_completed(self) -> dict | None:
        """The completed operations since the last call, as one columnar batch (None when there are none)."""
        if not self._key:
            return None
        batch = {"name": self._name, "key": self._key, "id": self._id, "outcome": bytes(self._outcome),
                 "status": self._status.tobytes(), "t0": self._t0.tobytes(), "t1": self._t1.tobytes(),
                 "seq": self._seq if any(s is not None for s in self._seq) else None}
        self.total_shipped += len(self._key)
        self._clear_done()
        return batch

    def take_all(self) -> dict | None:
        """Final flush: operations still in flight never completed, so their outcome is unknown (info)."""
        now = time.time()
        for started in self._open.values():
            self._append(started, INFO, None, 0, now)
        self._open.clear()
        return self.take_completed()

    def new_key(self) -> str:
        return f"{self.tag}-{uuid.uuid4().hex}"


recorder = Recorder()


def operation(name: str, key: str, seq: int | None = None) -> Operation:
    """Starts recording one client operation (invoke); use as a context manager."""
    return recorder.operation(name, key, seq)


def new_key() -> str:
    """A fresh idempotency key, tagged with this load generator."""
    return recorder.new_key()
