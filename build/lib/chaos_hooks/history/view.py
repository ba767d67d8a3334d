"""What the invariants see of the history: the master's columns plus the run they belong to (its values, the
load generators lost mid-run), with shared derived arrays computed once."""
import numpy as np

from chaos_hooks.history.recorder import INFO, OK
from chaos_hooks.common.table import NO_VALUE


def elements(keys: np.ndarray, seqs: np.ndarray | None) -> np.ndarray:
    """One int64 per operation or row: the key's hash, or (key, seq) mixed when a seq is given."""
    if seqs is None:
        return keys
    with np.errstate(over="ignore"):
        mixed = (keys.view(np.uint64) ^ (seqs.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15))) \
            * np.uint64(0xBF58476D1CE4E5B9)
    return np.where(seqs == NO_VALUE, keys, mixed.view(np.int64))


class HistoryView:
    def __init__(self, store, values: dict | None = None, lost_tags: set | None = None,
                 known_tags: set | None = None):
        self.store = store
        self.columns = store.columns()
        self.values = values or {}
        self.lost_tags = lost_tags or set()   # tags of load generators lost mid-run
        self.known_tags = known_tags or set()  # tags of every load generator of the run
        self.has_seq = store.has_seq()
        self._memo: dict = {}

    @property
    def n(self) -> int:
        return len(self.columns["key"])

    def memo(self, key, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def elements(self) -> np.ndarray:
        return self.memo("elements", lambda: elements(self.columns["key"], self.columns["seq"] if self.has_seq
                                                      else None))

    def ok_mask(self) -> np.ndarray:
        return self.memo("ok", lambda: self.columns["outcome"] == OK)

    def info_mask(self) -> np.ndarray:
        return self.memo("info", lambda: self.columns["outcome"] == INFO)

    def acked_count(self) -> int:
        """Distinct operations (keys, or key+seq) the system acknowledged."""
        return self.memo("acked_count", lambda: int(len(np.unique(self.elements()[self.ok_mask()]))))

    def texts(self, rows) -> list[tuple[str, str | None]]:
        return self.store.texts(rows)

    def rows_of(self, wanted: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        """For each element in `wanted`, the first history row holding it (restricted to a mask `among`)."""
        elems = self.elements()
        idx = np.arange(len(elems)) if among is None else np.flatnonzero(among)
        order = idx[np.argsort(elems[idx], kind="stable")]
        pos = np.searchsorted(elems[order], wanted)
        return order[np.minimum(pos, len(order) - 1)] if len(order) else np.empty(0, np.int64)
