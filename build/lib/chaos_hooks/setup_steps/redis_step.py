"""`redis: [COMMAND, arg, ...]` on a Redis datastore (`from:`); `save: name` keeps the reply."""
from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.common.templates import names_in, render
from chaos_hooks.setup_steps.registry import register
from chaos_hooks.setup_steps.base import SetupFailed, Step


@register
class RedisStep(Step):
    kind = "redis"
    extra_fields = {"save"}
    datastore_kinds = {"redis"}

    def parse(self, spec, f, path):
        self.command = f.str_list(spec, path, "redis", nonempty=True)
        self.save = f.str(spec, path, "save", None)

    def placeholders(self):
        return names_in(self.command)

    def saves(self):
        return {self.save} if self.save else set()

    def describe(self):
        return f"redis {' '.join(self.command)}"

    def run(self, ctx):
        args = [str(a) for a in render(self.command, ctx.values)]
        try:
            reply = ctx.datastores.redis_call(self.store, lambda r: r.execute_command(*args))
        except ReadFailed as err:
            raise SetupFailed(str(err)) from None
        if isinstance(reply, bytes):
            reply = reply.decode(errors="replace")
        return {self.save: reply} if self.save else {}
