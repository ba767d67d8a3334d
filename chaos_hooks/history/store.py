"""The master's copy of a run's history, by column: a million operations take about 50 MB.

Keys and ids are kept as 64-bit hashes (what the checkers compare) and their text goes to a temporary file in
the compact form it shipped in (history.batch_codec, never re-encoded), read back only for the rows evidence
names and for history.jsonl. Op names and load generators are interned. Batches come from history.Recorder
(workers ship them; the local runner hands them over directly).
"""
import math
import tempfile

import msgpack
import numpy as np

from chaos_hooks.history import batch_codec
from chaos_hooks.history.recorder import OUTCOME_NAMES
from chaos_hooks.common.table import NO_VALUE, hash_strs, hash_texts

_INT = np.int64
DTYPES = {"name": np.int16, "key": _INT, "id": _INT, "seq": _INT, "outcome": np.uint8, "status": np.int16,
          "t0": np.float64, "t1": np.float64, "source": np.int16}


class _Columns:
    """Append-only columns in buffers that double when full: a million ops in a few large allocations, which
    go back to the system when freed (a thousand small per-batch arrays would fragment the heap)."""

    def __init__(self):
        self.n = 0
        self.capacity = 0
        self.data: dict[str, np.ndarray] = {}

    def append(self, batch: dict[str, np.ndarray | None], n: int) -> None:
        if self.n + n > self.capacity:
            self._grow(max(65536, 2 * self.capacity, self.n + n))
        for name, values in batch.items():
            if values is None:
                if name in self.data:
                    self.data[name][self.n:self.n + n] = NO_VALUE
                continue
            if name not in self.data:  # first batch, or a column first seen now (seq): earlier rows have none
                self.data[name] = np.full(self.capacity, NO_VALUE if name == "seq" else 0, DTYPES[name])
            self.data[name][self.n:self.n + n] = values
        self.n += n

    def _grow(self, capacity: int) -> None:
        for name, old in self.data.items():
            new = np.empty(capacity, old.dtype)
            new[:self.n] = old[:self.n]
            self.data[name] = new
        self.capacity = capacity

    def view(self) -> dict[str, np.ndarray]:
        out = {name: arr[:self.n] for name, arr in self.data.items()}
        for name, dtype in DTYPES.items():
            if name not in out:
                out[name] = np.full(self.n, NO_VALUE, dtype) if name == "seq" else np.empty(0, dtype)
        return out


class HistoryStore:
    def __init__(self):
        self.names: list[str] = []
        self._name_codes: dict[str, int] = {}
        self.sources: list[str] = []
        self._source_codes: dict[str, int] = {}
        self.received: dict[str, int] = {}   # ops received per source
        self.expected: dict[str, int] = {}   # final totals, once a source has flushed
        self._columns = _Columns()
        self._text = tempfile.TemporaryFile(prefix="locust-chaos-history-")
        self._text_end = 0
        self._text_read = False
        self._text_blocks: list[tuple[int, int, int, int]] = []  # (offset, first row, rows, bytes)
        self._cache: dict | None = None
        self.n = 0

    # --- ingest --------------------------------------------------------------------------------------
    def add(self, source: str, batch: dict | None, final_total: int | None = None) -> None:
        if batch:
            self._add_batch(source, batch)
        if final_total is not None:
            self.expected[source] = final_total
        self.received.setdefault(source, 0)

    def _add_batch(self, source: str, batch: dict) -> None:
        n = batch["n"]
        code = self._name_codes
        names = np.array([code[name] if name in code else self._new_name(name) for name in batch["names"]],
                         np.int16)
        name_codes = np.frombuffer(batch["name"], np.uint8 if len(names) <= 256 else np.uint16)
        if source not in self._source_codes:
            self._source_codes[source] = len(self.sources)
            self.sources.append(source)
        keys, ids = batch_codec.decode(batch["key"], n), batch_codec.decode(batch["id"], n)
        t0 = np.frombuffer(batch["t0"], np.float64)
        seq = batch["seq"]
        self._columns.append({
            "name": names[name_codes], "key": hash_strs(keys), "id": hash_texts(ids),
            "seq": None if seq is None else np.frombuffer(seq, _INT),
            "outcome": np.frombuffer(batch["outcome"], np.uint8), "status": np.frombuffer(batch["status"], np.int16),
            "t0": t0, "t1": t0 + np.frombuffer(batch["dt"], np.float32),
            "source": self._source_codes[source]}, n)
        blob = msgpack.packb([batch["key"], batch["id"]])
        if self._text_read:  # a read moved the file position (a seek, even in place, flushes the write buffer)
            self._text.seek(self._text_end)
            self._text_read = False
        self._text.write(blob)
        self._text_blocks.append((self._text_end, self.n, n, len(blob)))
        self._text_end += len(blob)
        self.n += n
        self.received[source] = self.received.get(source, 0) + n
        self._cache = None

    def _new_name(self, name: str) -> int:
        self._name_codes[name] = len(self.names)
        self.names.append(name)
        return self._name_codes[name]

    def _read_block(self, block_no: int) -> tuple[list, list]:
        offset, first, count, size = self._text_blocks[block_no]
        self._text_read = True
        self._text.seek(offset)
        keys, ids = msgpack.unpackb(self._text.read(size))
        return batch_codec.decode(keys, count), batch_codec.decode(ids, count)

    # --- completeness (the flush barrier) ------------------------------------------------------------
    def complete(self, sources) -> bool:
        return not self.missing(sources)

    def missing(self, sources) -> list[str]:
        return [s for s in sources if not (s in self.expected and self.received.get(s, 0) == self.expected[s])]

    # --- reading -------------------------------------------------------------------------------------
    def columns(self) -> dict[str, np.ndarray]:
        """name, key, id, seq, outcome, status, t0, t1, source as arrays of n rows (views, not copies)."""
        if self._cache is None:
            self._cache = self._columns.view()
        return self._cache

    def has_seq(self) -> bool:
        seq = self.columns()["seq"]
        return bool(len(seq)) and bool((seq != NO_VALUE).any())

    def texts(self, rows) -> list[tuple[str, str | None]]:
        """(key, id) text of the given row numbers."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return []
        firsts = np.array([b[1] for b in self._text_blocks])
        out = {}
        for block_no in np.unique(np.searchsorted(firsts, rows, side="right") - 1):
            _, first, count, _ = self._text_blocks[block_no]
            keys, ids = self._read_block(block_no)
            for r in rows[(rows >= first) & (rows < first + count)]:
                out[int(r)] = (keys[int(r) - first], ids[int(r) - first])
        return [out[int(r)] for r in rows]

    def iter_records(self):
        """Every op as a dict, in arrival order (history.jsonl)."""
        cols = self.columns()
        for block_no, (_, first, count, _) in enumerate(self._text_blocks):
            keys, ids = self._read_block(block_no)
            for i in range(count):
                r = first + i
                seq = int(cols["seq"][r])
                t1 = float(cols["t1"][r])
                yield {"op": self.names[cols["name"][r]], "key": keys[i],
                       **({"seq": seq} if seq != NO_VALUE else {}),
                       "outcome": OUTCOME_NAMES[cols["outcome"][r]], "id": ids[i],
                       "status": int(cols["status"][r]) or None, "invoke": round(float(cols["t0"][r]), 6),
                       "complete": round(t1, 6) if math.isfinite(t1) else None,
                       "source": self.sources[cols["source"][r]]}

    def close(self) -> None:
        self._text.close()
