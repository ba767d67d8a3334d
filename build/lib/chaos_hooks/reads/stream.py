"""`stream: NAME, group: GROUP` — a Redis stream consumer group's backlog: entries not yet delivered to the
group (lag) plus entries delivered but not acknowledged (pending)."""
from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.common.templates import names_in, render
from chaos_hooks.reads.registry import register
from chaos_hooks.reads.base import Read


@register
class StreamBacklogRead(Read):
    kind = "stream"
    extra_fields = {"group"}
    datastore_kinds = {"redis"}

    def parse(self, spec, f, path):
        self.stream = f.str(spec, path, "stream")
        self.group = f.str(spec, path, "group")

    def placeholders(self):
        return names_in([self.stream, self.group])

    def describe(self):
        return f"backlog of group {self.group} on stream {self.stream} ({self.store})"

    def value(self, ctx):
        stream, group = render(self.stream, ctx.values), render(self.group, ctx.values)

        def backlog(r):
            if not r.exists(stream):
                return 0  # nothing was ever written: nothing to catch up on
            for info in r.xinfo_groups(stream):
                name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
                if name == group:
                    lag = info.get("lag")
                    if lag is None:  # Redis cannot tell (entries deleted): count undelivered ones
                        last = info["last-delivered-id"]
                        lag = len(r.xrange(stream, min=f"({last.decode() if isinstance(last, bytes) else last}"))
                    return int(lag) + int(info["pending"])
            raise ReadFailed(f"{self.role}: stream {stream!r} has no consumer group {group!r}")
        return ctx.datastores.redis_call(self.store, backlog)
