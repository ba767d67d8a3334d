"""`redis: [COMMAND, arg, ...]` — one Redis command; arguments are templated with run values.
As a value, the reply (a number for GET of a counter); as rows, a list reply's members are keys."""
from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.common.table import Table
from chaos_hooks.common.templates import names_in, render
from chaos_hooks.reads.registry import register
from chaos_hooks.reads.base import Read


@register
class RedisRead(Read):
    kind = "redis"
    datastore_kinds = {"redis"}

    def parse(self, spec, f, path):
        self.command = f.str_list(spec, path, "redis", nonempty=True)

    def placeholders(self):
        return names_in(self.command)

    def describe(self):
        return f"redis on {self.store}: {' '.join(self.command)}"

    def _reply(self, ctx):
        args = [str(a) for a in render(self.command, ctx.values)]
        return ctx.datastores.redis_call(self.store, lambda r: r.execute_command(*args))

    def value(self, ctx):
        reply = self._reply(ctx)
        return reply.decode(errors="replace") if isinstance(reply, bytes) else reply

    def rows(self, ctx):
        reply = self._reply(ctx)
        if isinstance(reply, (set, list, tuple)):
            members = [m.decode(errors="replace") if isinstance(m, bytes) else str(m) for m in reply]
            return Table.from_records(members, self.source)
        raise ReadFailed(f"{self.role}: {self.command[0]} did not answer a list")
