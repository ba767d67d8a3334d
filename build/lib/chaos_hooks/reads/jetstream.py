"""`jetstream: STREAM, consumer: NAME` — a NATS JetStream consumer's backlog: messages not yet delivered
(num_pending) plus delivered but unacknowledged (num_ack_pending)."""
from chaos_hooks.common.templates import names_in, render
from chaos_hooks.reads.registry import register
from chaos_hooks.reads.base import Read


@register
class JetStreamBacklogRead(Read):
    kind = "jetstream"
    extra_fields = {"consumer"}
    datastore_kinds = {"nats"}

    def parse(self, spec, f, path):
        self.stream = f.str(spec, path, "jetstream")
        self.consumer = f.str(spec, path, "consumer")

    def placeholders(self):
        return names_in([self.stream, self.consumer])

    def describe(self):
        return f"backlog of JetStream consumer {self.consumer} on {self.stream} ({self.store})"

    def value(self, ctx):
        info = ctx.datastores.nats_consumer(self.store, render(self.stream, ctx.values),
                                            render(self.consumer, ctx.values))
        return int(info.get("num_pending", 0)) + int(info.get("num_ack_pending", 0))
