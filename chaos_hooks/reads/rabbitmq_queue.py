"""`rabbitmq: {queue: NAME}` — a RabbitMQ queue's backlog: messages ready plus delivered but unacknowledged
(through the management API; an AMQP passive declare when none answers, which cannot see unacknowledged ones).

    backlog: {from: bus, rabbitmq: {queue: orders}}

Scoped to the run by the queue's depth when the run started (its mark): RabbitMQ cannot tell which messages
are the run's, so this is approximate — the older messages are assumed to leave first (FIFO), and what is left
of them is reported as "from before this run", never counted. The management API refreshes its figures every
collect_statistics_interval (5 s by default): a reading may be that old.
"""
from chaos_hooks.common.templates import names_in, render
from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.reads.backlog_state import BacklogState
from chaos_hooks.reads.base import Read
from chaos_hooks.reads.registry import register


@register
class RabbitQueueBacklogRead(Read):
    kind = "rabbitmq"
    datastore_kinds = {"amqp"}

    def parse(self, spec, f, path):
        inner = f.mapping(spec.get("rabbitmq"), path + ("rabbitmq",), {"queue"}, what="{queue: NAME}")
        self.queue = f.str(inner, path + ("rabbitmq",), "queue")

    def placeholders(self):
        return names_in([self.queue])

    def describe(self):
        return f"backlog of RabbitMQ queue {self.queue} ({self.store})"

    def _backlog(self, ctx) -> dict:
        queue = render(self.queue, ctx.values)
        return ctx.datastores.amqp_call(self.store, lambda broker: broker.queue_backlog(queue))

    def mark(self, ctx) -> int:
        """The queue's depth now (0 when it does not exist yet)."""
        try:
            b = self._backlog(ctx)
        except ReadFailed:
            return 0
        return b["ready"] + (b["unacknowledged"] or 0)

    def value(self, ctx):
        return self.state(ctx, keys=False).count

    def state(self, ctx, keys: bool = True) -> BacklogState:
        b = self._backlog(ctx)
        total = b["ready"] + (b["unacknowledged"] or 0)
        before = min(int(ctx.marks.get(self.role, 0)), total)
        state = BacklogState(total - before, before=before)
        if b["unacknowledged"]:
            state.holders.append(f"queue {render(self.queue, ctx.values)}: {b['unacknowledged']} unacknowledged "
                                 f"by {b['consumers']} consumer(s)")
        elif b["ready"] and not b["consumers"]:
            state.holders.append(f"queue {render(self.queue, ctx.values)}: {b['ready']} ready, no consumer")
        return state
