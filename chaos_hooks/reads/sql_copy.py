"""Reads a query's rows into a Table with COPY, fast enough for a million rows.

psycopg's row-by-row COPY iteration costs about a microsecond a row in Python; here libpq's buffers are
taken directly (waiting on the socket, so gevent keeps running), joined per block of rows, split in C and
hashed, never building a Python object per row beyond the strings of one block. The text of each block is
kept in a temporary file so evidence can name the rows it points at.
"""
from __future__ import annotations

import gc
import re
import select
import tempfile

import numpy as np

from chaos_hooks.common.lazy import lazy_module
from chaos_hooks.common.table import NO_VALUE, NUMBER_COLUMNS, TEXT_COLUMNS, Table, hash_texts

psycopg = lazy_module("psycopg")

BLOCK_ROWS = 16384  # about 1 MB of text: the per-row Python strings of one block stay small
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "\\": "\\"}


def columns_of(conn: psycopg.Connection, query: str, params: dict) -> list[str]:
    """The result columns of the user's query, without running it for real."""
    cur = conn.execute(f"SELECT * FROM ({query}) AS q LIMIT 0", params)
    return [c.name for c in cur.description]


def copy_table(conn: psycopg.Connection, query: str, params: dict, timeout: float = 120.0) -> Table:
    names = columns_of(conn, query, params)
    if "key" not in names:
        raise ValueError(f"the query returns no column named key (it returns {', '.join(names)})")
    wanted = [c for c in TEXT_COLUMNS + NUMBER_COLUMNS if c in names]
    select_list = ", ".join(f"q.{c}::text" if c in TEXT_COLUMNS else f"q.{c}::bigint" for c in wanted)
    statement = psycopg.ClientCursor(conn).mogrify(
        f"COPY (SELECT {select_list} FROM ({query}) AS q) TO STDOUT", params)
    spill = _Spill(wanted)
    parts: dict[str, list] = {c: [] for c in wanted}
    enabled = gc.isenabled()
    gc.disable()  # a million short-lived buffers would otherwise trigger a collection every few hundred
    try:
        with conn.lock:  # the connection's own lock: nothing else may talk on it mid-COPY
            for block in _copy_blocks(conn.pgconn, statement.encode(), timeout):
                for column, values in spill.add(block).items():
                    parts[column].append(values)
    except BaseException:
        conn.close()  # a COPY cut short leaves the connection mid-protocol: never reuse it
        raise
    finally:
        if enabled:
            gc.enable()
    columns = {c: (np.concatenate(v) if v else np.empty(0, np.int64)) for c, v in parts.items()}
    return Table(columns, spill.strings)


def _copy_blocks(pgconn, statement: bytes, timeout: float):
    """Yields bytes holding up to BLOCK_ROWS whole COPY text rows."""
    pgconn.send_query(statement)
    result = _next_result(pgconn, timeout)
    if result.status != psycopg.pq.ExecStatus.COPY_OUT:
        _finish(pgconn, timeout)
        raise psycopg.DataError((result.error_message or b"COPY did not start").decode(errors="replace"))
    rows: list = []
    while True:
        nbytes, data = pgconn.get_copy_data(1)
        if nbytes > 0:
            rows.append(data)  # a view of libpq's buffer, owned by the object: no copy
            if len(rows) >= BLOCK_ROWS:
                yield b"".join(rows)
                rows.clear()
        elif nbytes == 0:
            _wait_readable(pgconn, timeout)
            pgconn.consume_input()
        else:
            break
    if rows:
        yield b"".join(rows)
    error = _finish(pgconn, timeout)
    if error:
        raise psycopg.DataError(error)


def _wait_readable(pgconn, timeout: float) -> None:
    ready, _, _ = select.select([pgconn.socket], [], [], timeout)  # cooperative under gevent's monkey patch
    if not ready:
        raise psycopg.OperationalError(f"no data from PostgreSQL within {timeout:g}s")


def _next_result(pgconn, timeout: float):
    while pgconn.is_busy():
        _wait_readable(pgconn, timeout)
        pgconn.consume_input()
    return pgconn.get_result()


def _finish(pgconn, timeout: float) -> str:
    """Drains the remaining results so the connection is idle again; returns an error message, if any."""
    error = ""
    while True:
        result = _next_result(pgconn, timeout)
        if result is None:
            return error
        if result.status == psycopg.pq.ExecStatus.FATAL_ERROR:
            error = (result.error_message or b"").decode(errors="replace").strip()


class _Spill:
    """Parses blocks into hashed/number columns and keeps their text in a temp file for strings()."""

    def __init__(self, columns: list[str]):
        self.columns = columns
        self.file = tempfile.TemporaryFile(prefix="locust-chaos-read-")
        self.blocks: list[tuple[int, int, int]] = []  # (file offset, byte length, first row)
        self.rows = 0

    def add(self, block: bytes) -> dict:
        offset = self.file.seek(0, 2)
        self.file.write(block)
        fields = self._fields(block)
        n = len(fields[0]) if fields else 0
        self.blocks.append((offset, len(block), self.rows))
        self.rows += n
        out = {}
        for i, column in enumerate(self.columns):
            values = fields[i]
            if column in TEXT_COLUMNS:
                out[column] = hash_texts(values)
            else:
                out[column] = np.fromiter((NO_VALUE if v is None else int(v) for v in values), np.int64,
                                          count=len(values))
        return out

    def _fields(self, block: bytes) -> list[list]:
        text = block.decode("utf-8")
        width = len(self.columns)
        if "\\" not in text:  # nothing escaped, no NULLs: split in C
            flat = text.replace("\n", "\t").split("\t")[:-1]
            return [flat[i::width] for i in range(width)]
        rows = [line.split("\t") for line in text[:-1].split("\n")]
        return [[_unescape(r[i]) for r in rows] for i in range(width)]

    def strings(self, column: str, rows: np.ndarray) -> list:
        index = self.columns.index(column)
        starts = np.array([b[2] for b in self.blocks] + [self.rows])
        out = {}
        for block_no in np.unique(np.searchsorted(starts, rows, side="right") - 1):
            offset, length, first = self.blocks[block_no]
            self.file.seek(offset)
            values = self._fields(self.file.read(length))[index]
            for r in rows[(rows >= first) & (rows < starts[block_no + 1])]:
                out[int(r)] = values[int(r) - first]
        return [out.get(int(r)) for r in rows]


def _unescape(field: str):
    if field == "\\N":
        return None
    return _ESCAPE.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), field)
