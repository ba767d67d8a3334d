"""`stream: NAME, group: GROUP [, key_field: F]` — a Redis stream consumer group's backlog for this run:
entries added after the run started (the stream's last id then is its mark) that the group has not delivered
(after its last-delivered id) or delivered and not acknowledged (XPENDING). Older queued entries are counted
apart (`before`), never as this run's. With key_field, the keys of the queued entries are read too (XRANGE of
the undelivered ones and of each pending id), and XPENDING names the consumers holding them."""
from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.common.templates import names_in, render
from chaos_hooks.reads.backlog_state import BacklogState, text
from chaos_hooks.reads.registry import register
from chaos_hooks.reads.base import Read

KEYS_LIMIT = 200_000  # queued entries whose keys are read; beyond it the keys are not listed


def _id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


@register
class StreamBacklogRead(Read):
    kind = "stream"
    extra_fields = {"group", "key_field"}
    datastore_kinds = {"redis"}

    def parse(self, spec, f, path):
        self.stream = f.str(spec, path, "stream")
        self.group = f.str(spec, path, "group")
        self.key_field = f.str(spec, path, "key_field", None)

    def placeholders(self):
        return names_in([self.stream, self.group] + ([self.key_field] if self.key_field else []))

    def describe(self):
        return f"backlog of group {self.group} on stream {self.stream} ({self.store})"

    def mark(self, ctx) -> str:
        """The stream's last id now: entries after it belong to the run."""
        stream = render(self.stream, ctx.values)

        def last(r):
            if not r.exists(stream):
                return "0-0"
            return text(r.xinfo_stream(stream)["last-generated-id"])
        return ctx.datastores.redis_call(self.store, last)

    def value(self, ctx):
        return self.state(ctx, keys=False).count

    def state(self, ctx, keys: bool = True) -> BacklogState:
        stream, group = render(self.stream, ctx.values), render(self.group, ctx.values)
        mark = ctx.marks.get(self.role, "0-0")
        key_field = render(self.key_field, ctx.values).encode() if self.key_field and keys else None
        return ctx.datastores.redis_call(self.store, lambda r: self._state(r, stream, group, mark, key_field))

    def _state(self, r, stream, group, mark, key_field) -> BacklogState:
        if not r.exists(stream):
            return BacklogState(0, keys=[] if key_field else None)  # nothing was ever written
        info = next((g for g in r.xinfo_groups(stream) if text(g["name"]) == group), None)
        if info is None:
            raise ReadFailed(f"{self.role}: stream {stream!r} has no consumer group {group!r}")
        delivered = text(info["last-delivered-id"])
        start = max(mark, delivered, key=_id)
        lag = info.get("lag")
        if lag is not None and _id(delivered) >= _id(mark) and not key_field:
            undelivered = int(lag)  # every undelivered entry is newer than the mark
        else:
            undelivered = len(r.xrange(stream, min=f"({start}"))
        undelivered_before = len(r.xrange(stream, min=f"({delivered}", max=mark)) \
            if _id(delivered) < _id(mark) else 0
        pending = r.xpending_range(stream, group, min=f"({mark}" if mark != "0-0" else "-", max="+",
                                   count=max(int(info["pending"]), 1))
        state = BacklogState(undelivered + len(pending),
                             before=undelivered_before + int(info["pending"]) - len(pending))
        by_consumer: dict[str, list] = {}
        for p in pending:
            by_consumer.setdefault(text(p["consumer"]), []).append(p)
        for name, entries in sorted(by_consumer.items()):
            idle = min(e["time_since_delivered"] for e in entries) / 1000
            redelivered = sum(1 for e in entries if e["times_delivered"] > 1)
            state.holders.append(f"consumer {name}: {len(entries)} pending, idle {idle:.1f}s"
                                 + (f", {redelivered} delivered more than once" if redelivered else ""))
        if key_field is not None and state.count <= KEYS_LIMIT:
            entries = r.xrange(stream, min=f"({start}") if undelivered else []
            pipe = r.pipeline(transaction=False)
            for p in pending:
                pipe.xrange(stream, min=p["message_id"], max=p["message_id"])
            for got in pipe.execute() if pending else []:
                entries += got
            state.keys = [text(fields[key_field]) for _, fields in entries if key_field in fields]
        return state
