"""Operation history: every client operation as invoke -> ok | fail | info.

`info` means the outcome is unknown (timeout, reset, 5xx after the request went out); it is
never counted as lost. Ops are compact lists so batches ship cheaply from workers to the master:
    [key, t_invoke, t_complete, outcome, order_id, status, retry]
"""
import itertools
import time

OK, FAIL, INFO = "ok", "fail", "info"
KEY, T_INVOKE, T_COMPLETE, OUTCOME, ORDER_ID, STATUS, RETRY = range(7)


class Recorder:
    """Process-local history of one run. Users call invoke() before sending and complete() after."""

    def __init__(self):
        self.reset(None)

    def reset(self, run_id: str | None) -> None:
        self.run_id = run_id
        self._ids = itertools.count()
        self._open: dict[int, list] = {}
        self._done: list[list] = []
        self.total_shipped = 0

    def invoke(self, key: str, retry: bool = False) -> int:
        op_id = next(self._ids)
        self._open[op_id] = [key, time.time(), None, INFO, None, None, retry]
        return op_id

    def complete(self, op_id: int, outcome: str, order_id: str | None = None, status: int | None = None) -> None:
        op = self._open.pop(op_id, None)
        if op is None:  # the run was reset or flushed while this request was in flight
            return
        op[T_COMPLETE], op[OUTCOME], op[ORDER_ID], op[STATUS] = time.time(), outcome, order_id, status
        self._done.append(op)

    def take_completed(self) -> list[list]:
        batch, self._done = self._done, []
        self.total_shipped += len(batch)
        return batch

    def take_all(self) -> list[list]:
        """Final flush: in-flight ops never completed, so their outcome is unknown (info)."""
        unfinished = list(self._open.values())
        self._open.clear()
        self._done.extend(unfinished)
        return self.take_completed()


recorder = Recorder()


class HistoryCollector:
    """Master side: gathers batches per source and knows when every source's history is complete."""

    def __init__(self):
        self.ops: list[list] = []
        self.received: dict[str, int] = {}
        self.expected: dict[str, int] = {}

    def add(self, source: str, ops: list, final_total: int | None = None) -> None:
        self.ops.extend(ops)
        self.received[source] = self.received.get(source, 0) + len(ops)
        if final_total is not None:
            self.expected[source] = final_total

    def complete(self, sources) -> bool:
        return all(s in self.expected and self.received.get(s, 0) == self.expected[s] for s in sources)

    def missing(self, sources) -> list[str]:
        return [s for s in sources if not (s in self.expected and self.received.get(s, 0) == self.expected[s])]
