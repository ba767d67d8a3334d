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
import os
import time

from chaos_hooks.history import batch_codec

OK, FAIL, INFO = 0, 1, 2
OUTCOME_NAMES = ("ok", "fail", "info")
_NEVER_SENT = (ConnectionRefusedError,)
_now = time.time


def worker_tag(node_id: str) -> str:
    """A short, stable tag for a load generator, derived from its Locust node id."""
    return hashlib.sha1(node_id.encode()).hexdigest()[:8]


class Operation:
    """One operation: its invoke (name, key, seq, t0) and, once it ends, its outcome. The operation object itself
    is the row until the next batch ships: no per-op tuple or dict."""
    __slots__ = ("pending", "name", "key", "seq", "t0", "t1", "outcome", "id", "status")

    def __init__(self, pending: set, name: str, key: str, seq, t0: float):
        self.pending = pending  # the recorder's in-flight set when this op began
        self.name, self.key, self.seq, self.t0 = name, key, seq, t0
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
        if status == 0:
            (self.fail if _never_sent(getattr(resp, "error", None)) else self.info)(status)
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
        pending = self.pending
        if self in pending:  # else the run was reset or flushed while this operation was in flight
            pending.remove(self)
            self.t1 = _now()
            pending.done.append(self)
        return False


class _Pending(set):
    """The operations in flight, and (done) those completed since the last batch."""
    __slots__ = ("done",)

    def __init__(self):
        super().__init__()
        self.done: list[Operation] = []


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
    """Process-local history of one run. Completed operations wait as objects; each batch turns them into
    compact columns (batch_codec) that ship cheaply to the master."""

    def __init__(self):
        self.tag = "local"
        self.reset(None)

    def reset(self, run_id: str | None) -> None:
        self.run_id = run_id
        self._pending = _Pending()
        self.total_shipped = 0
        self._key_stem = os.urandom(8).hex()  # drawn per run: a forked generator gets its own
        self._key_count = 0

    def operation(self, name: str, key: str, seq: int | None = None) -> Operation:
        pending = self._pending
        op = Operation(pending, name if name.__class__ is str else str(name), key if key.__class__ is str else
                       str(key), None if seq is None else int(seq), _now())
        pending.add(op)
        return op

    def complete(self, op: Operation) -> None:
        op.__exit__(None, None, None)

    def record(self, name: str, key: str, seq: int | None, outcome: int, ident, status: int, t0: float,
               t1: float) -> None:
        """Adds one finished operation with the given times (histories built or replayed outside a run)."""
        op = Operation(self._pending, str(name), str(key), seq, t0)
        op.outcome, op.id, op.status, op.t1 = outcome, (None if ident is None else str(ident)), status, t1
        self._pending.done.append(op)

    def take_completed(self) -> dict | None:
        """The completed operations since the last call, as one compact batch (None when there are none)."""
        done = self._pending.done
        if not done:
            return None
        self._pending.done = []
        self.total_shipped += len(done)
        return encode_batch(done)

    def take_all(self) -> dict | None:
        """Final flush: operations still in flight never completed, so their outcome is unknown (info)."""
        pending = self._pending
        self._pending = _Pending()  # ops still running when they end find themselves flushed and are dropped
        in_flight = sorted(pending, key=_invoked)
        pending.clear()
        now = _now()
        for op in in_flight:
            op.t1 = now
        self._pending.done = pending.done + in_flight
        return self.take_completed()

    def new_key(self) -> str:
        """tag-<32 hex digits>: a random stem per process and a counter (unique without a syscall per key)."""
        self._key_count += 1
        return f"{self.tag}-{self._key_stem}{self._key_count:016x}"


def _invoked(op: Operation) -> float:
    return op.t0


def encode_batch(done: list) -> dict:
    """Operations -> the batch a worker ships: name codes, keys and ids through batch_codec, times as float64
    invoke and float32 duration, outcome and status as bytes."""
    n = len(done)
    names: dict[str, int] = {}
    codes = [names.setdefault(o.name, len(names)) for o in done]
    codes = bytes(codes) if len(names) <= 256 else array.array("H", codes).tobytes()
    seqs = [o.seq for o in done]
    return {"n": n, "names": list(names), "name": codes,
            "key": batch_codec.encode([o.key for o in done]),
            "id": batch_codec.encode([o.id for o in done]),
            "outcome": bytes([INFO if o.outcome is None else o.outcome for o in done]),
            "status": array.array("h", [max(-32768, min(32767, o.status)) for o in done]).tobytes(),
            "t0": array.array("d", [o.t0 for o in done]).tobytes(),
            "dt": array.array("f", [o.t1 - o.t0 for o in done]).tobytes(),
            "seq": None if seqs.count(None) == n else array.array("q", [NO_SEQ if s is None else s
                                                                        for s in seqs]).tobytes()}


NO_SEQ = -(2 ** 63)


def decode_batch(batch: dict) -> dict:
    """A shipped batch back to plain columns: name, key, id, seq as lists; outcome, status, t0, t1 as bytes of
    uint8, int16, float64, float64 (for tests and tools; the master decodes into arrays itself)."""
    n = batch["n"]
    codes = batch["name"]
    codes = codes if len(batch["names"]) <= 256 else array.array("H", codes)
    t0 = array.array("d", batch["t0"])
    dt = array.array("f", batch["dt"])
    seq = None if batch["seq"] is None else [None if s == NO_SEQ else s for s in array.array("q", batch["seq"])]
    return {"name": [batch["names"][c] for c in codes], "key": batch_codec.decode(batch["key"], n),
            "id": batch_codec.decode(batch["id"], n), "seq": seq, "outcome": batch["outcome"],
            "status": batch["status"], "t0": t0.tobytes(), "t1": array.array("d", [a + b for a, b in zip(t0, dt)]).tobytes()}


recorder = Recorder()


def operation(name: str, key: str, seq: int | None = None) -> Operation:
    """Starts recording one client operation (invoke); use as a context manager."""
    return recorder.operation(name, key, seq)


def new_key() -> str:
    """A fresh idempotency key, tagged with this load generator."""
    return recorder.new_key()
