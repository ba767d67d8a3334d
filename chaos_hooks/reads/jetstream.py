"""`jetstream: STREAM, consumer: NAME [, key_field: F]` — a NATS JetStream consumer's backlog for this run:
messages not yet delivered (num_pending) plus delivered but unacknowledged (num_ack_pending), counting only
sequences above the stream's last sequence when the run started (its mark). With key_field (a field of the
JSON message body), the keys of the messages above the consumer's ack floor are read (STREAM.MSG.GET): a
superset of what is queued when acks come out of order, so in-flight is never under-counted."""
import base64
import json

from chaos_hooks.common.templates import names_in, render
from chaos_hooks.datastores import nats_request
from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.reads.backlog_state import BacklogState
from chaos_hooks.reads.registry import register
from chaos_hooks.reads.base import Read

KEYS_LIMIT = 20_000  # messages fetched one by one for their keys; beyond it the keys are not listed


@register
class JetStreamBacklogRead(Read):
    kind = "jetstream"
    extra_fields = {"consumer", "key_field"}
    datastore_kinds = {"nats"}

    def parse(self, spec, f, path):
        self.stream = f.str(spec, path, "jetstream")
        self.consumer = f.str(spec, path, "consumer")
        self.key_field = f.str(spec, path, "key_field", None)

    def placeholders(self):
        return names_in([self.stream, self.consumer])

    def describe(self):
        return f"backlog of JetStream consumer {self.consumer} on {self.stream} ({self.store})"

    def _api(self, ctx, subject: str, payload: dict | None = None) -> dict:
        try:
            reply = json.loads(nats_request.request(ctx.datastores.urls[self.store], subject,
                                                    json.dumps(payload).encode() if payload else b"") or b"{}")
        except (nats_request.NatsError, ValueError) as err:
            raise ReadFailed(f"{self.role}: nats: {err}") from None
        if "error" in reply:
            raise ReadFailed(f"{self.role}: JetStream: {reply['error'].get('description', reply['error'])}")
        return reply

    def mark(self, ctx) -> int:
        """The stream's last sequence now: messages above it belong to the run (0 if there is no stream yet)."""
        try:
            info = self._api(ctx, f"$JS.API.STREAM.INFO.{render(self.stream, ctx.values)}")
        except ReadFailed:
            return 0
        return int(info.get("state", {}).get("last_seq", 0))

    def value(self, ctx):
        return self.state(ctx, keys=False).count

    def state(self, ctx, keys: bool = True) -> BacklogState:
        stream, consumer = render(self.stream, ctx.values), render(self.consumer, ctx.values)
        info = ctx.datastores.nats_consumer(self.store, stream, consumer)
        mark = int(ctx.marks.get(self.role, 0))
        pending, ack_pending = int(info.get("num_pending", 0)), int(info.get("num_ack_pending", 0))
        delivered = int(info.get("delivered", {}).get("stream_seq", 0))
        floor = int(info.get("ack_floor", {}).get("stream_seq", 0))
        # Undelivered messages lie above `delivered`; unacknowledged ones between the ack floor and it.
        pending_before = min(pending, max(mark - delivered, 0))
        ack_before = min(ack_pending, max(mark - floor, 0))
        state = BacklogState(pending - pending_before + ack_pending - ack_before, before=pending_before + ack_before)
        if ack_pending or info.get("num_redelivered"):
            state.holders.append(f"consumer {consumer}: ack_pending {ack_pending}, "
                                 f"num_redelivered {int(info.get('num_redelivered', 0))}, "
                                 f"delivered up to seq {delivered}, ack floor {floor}")
        if keys and self.key_field:
            state.keys = self._keys(ctx, stream, max(mark, floor), delivered + pending)
        return state

    def _keys(self, ctx, stream: str, after: int, last: int) -> list[str] | None:
        if last - after > KEYS_LIMIT:
            return None
        out = []
        for seq in range(after + 1, last + 1):
            try:
                msg = self._api(ctx, f"$JS.API.STREAM.MSG.GET.{stream}", {"seq": seq})["message"]
            except ReadFailed as err:
                if "not found" in str(err).lower() or "no message" in str(err).lower():
                    continue  # deleted or purged: nothing queued there
                raise
            try:
                body = json.loads(base64.b64decode(msg.get("data", "")))
            except ValueError:
                continue
            if isinstance(body, dict) and self.key_field in body:
                out.append(str(body[self.key_field]))
        return out
