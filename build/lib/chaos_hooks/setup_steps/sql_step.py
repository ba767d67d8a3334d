"""`sql: "..."` on a PostgreSQL datastore (`from:`), run values as `%(name)s` parameters;
`save: name` keeps the first column of the first row it returns."""
import re

from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.setup_steps.registry import register
from chaos_hooks.setup_steps.base import SetupFailed, Step

_PARAM = re.compile(r"%\((\w+)\)s")


@register
class SqlStep(Step):
    kind = "sql"
    extra_fields = {"save"}
    datastore_kinds = {"postgresql"}

    def parse(self, spec, f, path):
        self.query = f.str(spec, path, "sql")
        self.save = f.str(spec, path, "save", None)

    def placeholders(self):
        return set(_PARAM.findall(self.query))

    def saves(self):
        return {self.save} if self.save else set()

    def describe(self):
        return f"sql {' '.join(self.query.split())[:60]}"

    def run(self, ctx):
        names = self.placeholders()
        params = {k: ctx.values[k] for k in names} if names else None

        def execute(conn):
            cur = conn.execute(self.query, params)
            row = cur.fetchone() if cur.description else None
            return row[0] if row else None
        try:
            value = ctx.datastores.pg_call(self.store, execute)
        except ReadFailed as err:
            raise SetupFailed(str(err)) from None
        return {self.save: value} if self.save else {}
