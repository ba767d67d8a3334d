"""Rows a read returned (what the system kept), stored by column: text columns (key, id) as 64-bit hashes,
numbers (seq, units) as int64. Strings are recovered on demand for the few rows evidence names.

Hashes are Python's own string hash: the history is hashed by the same (master) process, so equal strings
always meet; two different strings colliding among a million is a chance of about 1 in 30 million.
"""
import numpy as np

TEXT_COLUMNS = ("key", "id")
NUMBER_COLUMNS = ("seq", "units")
COLUMNS = TEXT_COLUMNS + NUMBER_COLUMNS
NO_VALUE = np.int64(-(2 ** 63))  # a NULL id/seq/units; hash() never returns it (CPython maps -1 to -2 only)


def hash_texts(texts: list) -> np.ndarray:
    """int64 hashes of strings (None -> NO_VALUE)."""
    hashes = np.fromiter(map(hash, texts), np.int64, count=len(texts))
    if None in texts:
        hashes[np.fromiter((t is None for t in texts), bool, count=len(texts))] = NO_VALUE
    return hashes


def hash_strs(texts: list) -> np.ndarray:
    """The fast path: every item is a str."""
    return np.fromiter(map(hash, texts), np.int64, count=len(texts))


def numbers(values) -> np.ndarray:
    return np.fromiter((NO_VALUE if v is None else int(v) for v in values), np.int64, count=len(values))


class Table:
    """n rows; columns name -> int64 array; strings(column, rows) gives back the original text."""

    def __init__(self, columns: dict[str, np.ndarray], strings=None):
        self.columns = columns
        self.n = len(next(iter(columns.values()))) if columns else 0
        self._strings = strings  # callable(column, row indices) -> list[str | None]

    def has(self, column: str) -> bool:
        return column in self.columns

    def strings(self, column: str, rows) -> list:
        if self._strings is None or len(rows) == 0:
            return []
        return self._strings(column, np.asarray(rows, dtype=np.int64))

    @classmethod
    def from_records(cls, records: list, source: str) -> "Table":
        """From a list of mappings with key/id/seq/units fields, or of plain strings (keys)."""
        rows = [r if isinstance(r, dict) else {"key": r} for r in records]
        for i, r in enumerate(rows):
            if not isinstance(r.get("key"), (str, int)) or isinstance(r.get("key"), bool):
                raise ValueError(f"{source}: row {i} has no key (need a string or a mapping with 'key')")
        present = [c for c in COLUMNS if any(c in r and r[c] is not None for r in rows)] or ["key"]
        texts = {c: [None if r.get(c) is None else str(r[c]) for r in rows] for c in TEXT_COLUMNS if c in present}
        columns = {c: hash_texts(v) for c, v in texts.items()}
        for c in NUMBER_COLUMNS:
            if c in present:
                try:
                    columns[c] = numbers([r.get(c) for r in rows])
                except (TypeError, ValueError):
                    raise ValueError(f"{source}: column {c!r} must hold whole numbers") from None
        return cls(columns, lambda column, idx: [texts[column][i] for i in idx])
