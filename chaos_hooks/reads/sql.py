"""`sql:` — a PostgreSQL query. Run values are bound parameters, `%(name)s`, never formatted into the text.
Scope it to one run with a run value (`WHERE run = %(run_id)s`, or a scenario value made from {run_id}); a
query with none sees every run's rows, and `validate` says so. As rows it needs a column named `key` (and may give `id`, `seq`, `units`); as a value, one row, one column."""
import re

from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.reads.sql_copy import copy_table
from chaos_hooks.reads.registry import register
from chaos_hooks.reads.base import Read

_PARAM = re.compile(r"%\((\w+)\)s")


@register
class SqlRead(Read):
    kind = "sql"
    datastore_kinds = {"postgresql"}

    def parse(self, spec, f, path):
        self.query = f.str(spec, path, "sql").strip().rstrip(";")

    def placeholders(self) -> set[str]:
        return set(_PARAM.findall(self.query))

    def unscoped(self) -> str | None:
        if self.placeholders():
            return None
        return ("the query takes no run value (%(run_id)s or one of the scenario's values as %(name)s), so it "
                "also sees what other runs left")

    def describe(self) -> str:
        return f"sql on {self.store}: {' '.join(self.query.split())[:80]}"

    def _params(self, ctx):
        names = self.placeholders()
        return {k: ctx.values[k] for k in names} if names else None

    def value(self, ctx):
        def one(conn):
            rows = conn.execute(self.query, self._params(ctx)).fetchall()
            if len(rows) != 1 or not rows[0]:
                raise ReadFailed(f"{self.role}: expected one row with one value, got {len(rows)} rows")
            return rows[0][0]
        return ctx.datastores.pg_call(self.store, one)

    def rows(self, ctx):
        try:
            return ctx.datastores.pg_call(self.store, lambda conn: copy_table(conn, self.query, self._params(ctx)))
        except ValueError as err:
            raise ReadFailed(f"{self.role}: {err}") from None

    def count(self, ctx) -> int:
        """How many rows the query gives, without fetching them (the catch-up poll)."""
        return ctx.datastores.pg_call(self.store, lambda conn: conn.execute(
            f"SELECT count(*) FROM ({self.query}) AS q", self._params(ctx)).fetchone()[0])
