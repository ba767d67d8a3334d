"""NATS connection and JetStream setup shared by the ingest and the consumer."""
import asyncio
import logging
import time

import nats
import nats.errors
from nats.aio.client import Client
from nats.js import api
from nats.js.errors import APIError, NotFoundError

from .settings import CONSUMER, STREAM, SUBJECT

RECONNECT_WAIT_S = 0.2
CONNECT_TIMEOUT_S = 2
API_TIMEOUT_S = 2.0
# A client retrying a publish within this window (same Nats-Msg-Id) is answered duplicate=true.
DUPLICATE_WINDOW_S = 120.0
ACK_WAIT_S = 5.0
MAX_ACK_PENDING = 20_000
NATS_ERRORS = (nats.errors.Error, asyncio.TimeoutError, OSError)

STREAM_CONFIG = api.StreamConfig(name=STREAM, subjects=[SUBJECT], storage=api.StorageType.FILE,
                                 duplicate_window=DUPLICATE_WINDOW_S)


def consumer_config(durable: str = CONSUMER, **overrides) -> api.ConsumerConfig:
    """The durable pull consumer; max_deliver -1 because an event must never be given up on."""
    config = dict(durable_name=durable, ack_policy=api.AckPolicy.EXPLICIT, ack_wait=ACK_WAIT_S, max_deliver=-1,
                  max_ack_pending=MAX_ACK_PENDING, deliver_policy=api.DeliverPolicy.ALL)
    config.update(overrides)
    return api.ConsumerConfig(**config)


async def connect(url: str, name: str, log: logging.Logger, reconnected_cb=None) -> Client:
    """A client that reconnects forever; waits (with backoff) for a server that is not up yet."""
    warn = Throttled(log)

    async def on_error(err):
        text = str(err) or type(err).__name__
        warn(text if text.startswith("nats") else f"nats: {text}")

    async def on_disconnected():
        log.warning("nats disconnected; reconnecting every %.1fs", RECONNECT_WAIT_S)

    async def on_reconnected():
        log.info("nats reconnected")
        if reconnected_cb:
            await reconnected_cb()

    backoff = RECONNECT_WAIT_S
    while True:
        nc = nats.NATS()
        try:
            await nc.connect(servers=[url], name=name, allow_reconnect=True, max_reconnect_attempts=-1,
                             reconnect_time_wait=RECONNECT_WAIT_S, connect_timeout=CONNECT_TIMEOUT_S,
                             error_cb=on_error, disconnected_cb=on_disconnected, reconnected_cb=on_reconnected)
            log.info("connected to nats at %s", url)
            return nc
        except NATS_ERRORS as err:
            warn(f"nats at {url} unavailable ({err or type(err).__name__}); retrying")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)


async def ensure_stream_and_consumer(js, durable: str = CONSUMER) -> None:
    """Creates the stream and the durable consumer when missing; leaves existing ones as they are."""
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(STREAM_CONFIG)
    try:
        await js.consumer_info(STREAM, durable)
    except NotFoundError:
        try:
            await js.add_consumer(STREAM, consumer_config(durable))
        except APIError:
            await js.consumer_info(STREAM, durable)  # created meanwhile by the other process: fine


class Throttled:
    """Logs a repeated warning (a server down, retried every 0.2 s) at most once per interval."""

    def __init__(self, log: logging.Logger, interval_s: float = 5.0):
        self.log, self.interval_s = log, interval_s
        self.last_text, self.last_at = None, 0.0

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        if text != self.last_text or now - self.last_at >= self.interval_s:
            self.log.warning("%s", text)
            self.last_text, self.last_at = text, now
