"""Event writer: pulls the durable JetStream consumer and persists every event in PostgreSQL.

Inserts a fetched batch in stream order in one transaction and acknowledges it only after the
commit; a database error rolls back and retries the same batch with backoff. On start and after a
NATS reconnect it rewinds the consumer to its ack floor (see Consumer.rewind), so that events the
broker believes in flight are delivered again before newer ones and per-key order survives a crash.
"""
import argparse
import asyncio
import logging
import random
import signal
import time
from importlib import resources

import psycopg
from nats.js import api
from nats.js.errors import APIError, NotFoundError
from psycopg.types.json import Jsonb

from . import event
from .jetstream import API_TIMEOUT_S, NATS_ERRORS, Throttled, connect, consumer_config, ensure_stream_and_consumer
from .pidfile import write_pidfile
from .settings import CONSUMER, STREAM, Settings

log = logging.getLogger("eventpipe-consumer")
BATCH = 100
FETCH_TIMEOUT_S = 0.2
# A write stuck on a half-open connection is abandoned (and retried on a new one) after this long.
WRITE_TIMEOUT_S = 15.0
INSERT = "INSERT INTO events (event_id, stream_key, seq, payload) VALUES (%s, %s, %s, %s)"
INSERT_DEDUPE = INSERT + " ON CONFLICT (stream_key, seq) DO NOTHING"
DEDUPE_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS events_dedupe ON events (stream_key, seq)"
# With ack-before-commit, acked events wait in memory this long before their insert: a kill in the
# first seconds of traffic always lands while every event acked so far exists only in memory.
ACK_BEFORE_COMMIT_DELAY_S = 8.0
# With no-dedupe, committed events are acked in one go this often; shorter than ack_wait (5 s), so
# only a kill (never plain slowness) leaves committed events unacked for redelivery.
DEFERRED_ACK_S = 3.0
# With parallel-consumer, each event of a batch waits up to this long, then commits on its own
# connection: events of one key fetched together are persisted in random order. Batches are filled
# for up to PARALLEL_FILL_S, because a key published sequentially at a few events/s would otherwise
# rarely have two events in one batch (and 50 ms delays never reorder events 150 ms apart).
PARALLEL_MAX_DELAY_S = 0.05
PARALLEL_FILL_S = 1.0
PARALLEL_CONNECTIONS = 8


def brief(err: BaseException) -> str:
    """One line: PostgreSQL's messages span several."""
    return " ".join(str(err).split()) or type(err).__name__


def row(body: dict) -> tuple:
    payload = body.get("payload")
    return (event.event_id(body["stream_key"], body["seq"]), body["stream_key"], body["seq"],
            None if payload is None else Jsonb(payload))


class Writer:
    """One PostgreSQL connection; write() retries the same rows (rollback, backoff, reconnect) until they commit."""

    def __init__(self, url: str, sql: str, stopping: asyncio.Event):
        self.url, self.sql, self.stopping = url, sql, stopping
        self.conn: psycopg.AsyncConnection | None = None
        self.warn = Throttled(log)

    async def write(self, rows: list) -> bool:
        """Inserts `rows` in this order in one transaction. False only when stopping while the database
        fails: then nothing of it committed and the caller must not ack."""
        backoff = 0.1
        while True:
            try:
                await asyncio.wait_for(self._insert(rows), WRITE_TIMEOUT_S)
                return True
            except (psycopg.Error, asyncio.TimeoutError, OSError) as err:
                self.warn(f"insert failed ({brief(err)}); retrying with backoff")
                await self.close()
                if self.stopping.is_set():
                    return False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _insert(self, rows: list) -> None:
        if self.conn is None or self.conn.closed:
            self.conn = await psycopg.AsyncConnection.connect(self.url, connect_timeout=2)
        async with self.conn.cursor() as cur:
            await cur.executemany(self.sql, rows)
        await self.conn.commit()

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # already broken; closing is only tidying up
                pass


class Consumer:
    def __init__(self, settings: Settings, durable: str):
        self.settings = settings
        self.durable = durable
        self.bugs = settings.bugs
        self.stopping = asyncio.Event()
        sql = INSERT if "no-dedupe" in self.bugs else INSERT_DEDUPE
        self.writer = Writer(settings.database_url, sql, self.stopping)
        self.pool: asyncio.Queue | None = None
        if "parallel-consumer" in self.bugs:
            self.pool = asyncio.Queue()
            for _ in range(PARALLEL_CONNECTIONS):
                self.pool.put_nowait(Writer(settings.database_url, sql, self.stopping))
        self.deferred: asyncio.Queue | None = asyncio.Queue() if "ack-before-commit" in self.bugs else None
        self.unacked: list = []  # no-dedupe: committed, waiting for the next batched ack
        self.nc = self.js = self.sub = None
        self.rewind_needed = True
        self.rewind_from: int | None = None  # the consumer was deleted to restart delivery here
        self.written = 0
        self.warn = Throttled(log)

    # --- start and stop -------------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        if not await self.unless_stopped(self.setup_database()):
            return
        self.nc = await self.unless_stopped(connect(self.settings.nats_url, f"eventpipe-consumer-{self.durable}",
                                                    log, reconnected_cb=self.on_reconnected))
        if self.nc is None:
            return
        self.js = self.nc.jetstream(timeout=API_TIMEOUT_S)
        helpers = []
        if self.deferred is not None:
            helpers.append(asyncio.create_task(self.deferred_writer()))
        if "no-dedupe" in self.bugs:
            helpers.append(asyncio.create_task(self.batched_acks()))
        try:
            await self.consume()
        finally:
            await self.shut_down(helpers)

    def stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stopping after the current batch")
        self.stopping.set()

    async def unless_stopped(self, coro):
        """The result of `coro`, or None when a stop signal comes first (startup may wait on a server forever)."""
        task = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(self.stopping.wait())
        done, _ = await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if task in done:
            return task.result()
        task.cancel()
        return None

    async def pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def shut_down(self, helpers: list) -> None:
        if self.deferred is not None:
            await self.deferred.join()  # on a stop signal the deferred writer writes what it holds at once
        await self.flush_acks()
        for task in helpers:
            task.cancel()
        try:
            await self.nc.flush(timeout=2)
        except NATS_ERRORS:
            pass
        await self.nc.close()
        await self.writer.close()
        while self.pool is not None and not self.pool.empty():
            await self.pool.get_nowait().close()
        log.info("stopped; wrote %d events", self.written)

    async def setup_database(self) -> bool:
        """Applies schema.sql (and the dedupe index), retrying until PostgreSQL answers."""
        schema = resources.files(__package__).joinpath("schema.sql").read_text()
        backoff = 0.1
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.settings.database_url, connect_timeout=2) as conn:
                    await conn.execute(schema)
                    if "no-dedupe" in self.bugs:
                        # Left by an earlier correct run, the index would make no-dedupe's inserts fail, not duplicate.
                        await conn.execute("DROP INDEX IF EXISTS events_dedupe")
                    else:
                        await conn.execute(DEDUPE_INDEX)
                return True
            except psycopg.errors.UniqueViolation as err:
                raise SystemExit(f"eventpipe-consumer: events holds duplicate (stream_key, seq) rows, so the dedupe "
                                 f"index cannot be built ({brief(err)}); drop the table or run with no-dedupe")
            except psycopg.Error as err:
                self.warn(f"database unavailable ({brief(err)}); retrying")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    # --- the stream ----------------------------------------------------------------------------
    async def on_reconnected(self) -> None:
        self.rewind_needed = True  # fetches or acks may have been lost in the disconnect

    async def consume(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.rewind_needed:
                    await self.rewind()
                msgs = await self.fetch()
            except asyncio.TimeoutError:  # no events (nats' TimeoutError is one too)
                continue
            except NATS_ERRORS as err:
                self.warn(f"nats: {brief(err)}; retrying")
                self.rewind_needed = True
                await self.pause(0.5)
                continue
            await self.handle(msgs)

    async def fetch(self) -> list:
        if self.pool is None:
            return await self.sub.fetch(BATCH, timeout=FETCH_TIMEOUT_S)
        msgs, deadline = [], time.monotonic() + PARALLEL_FILL_S
        while len(msgs) < BATCH and deadline - time.monotonic() > 0.01:
            try:
                msgs += await self.sub.fetch(BATCH - len(msgs), timeout=deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
        if not msgs:
            raise asyncio.TimeoutError
        return msgs

    async def rewind(self) -> None:
        """Restarts delivery at the ack floor when anything is unacknowledged.

        JetStream redelivers an event it believes in flight (fetched by a consumer that was killed,
        or lost in a disconnect) only after ack_wait, and after newer events of the same key have been
        written: per-key order would break. So everything after the floor is delivered again, in stream
        order; events already committed are skipped by ON CONFLICT DO NOTHING.
        """
        await self.flush_acks()
        await self.nc.flush(timeout=2)  # our last acks must count for the floor
        if self.sub is not None:
            try:
                await self.sub.unsubscribe()
            except NATS_ERRORS:
                pass
            self.sub = None
        if self.rewind_from is None:
            await ensure_stream_and_consumer(self.js, self.durable)
            info = await self.js.consumer_info(STREAM, self.durable)
            if info.num_ack_pending:
                self.rewind_from = info.ack_floor.stream_seq + 1
                log.info("rewinding consumer %s to stream seq %d (%d events unacknowledged)",
                         self.durable, self.rewind_from, info.num_ack_pending)
                try:
                    await self.js.delete_consumer(STREAM, self.durable)
                except NotFoundError:
                    pass
        if self.rewind_from is not None:  # kept if NATS fails in between: the retry must not deliver from seq 1
            try:
                await self.js.add_consumer(STREAM, consumer_config(
                    self.durable, deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.rewind_from))
            except APIError as err:
                # The ingest re-created it (delivering from the start) in between: slower, equally correct.
                log.warning("consumer %s re-created meanwhile (%s); using it", self.durable, err)
            self.rewind_from = None
        self.sub = await self.js.pull_subscribe_bind(durable=self.durable, stream=STREAM)
        self.rewind_needed = False

    async def handle(self, msgs: list) -> None:
        events = []
        for msg in msgs:
            try:
                events.append((msg, event.decode(msg.data)))
            except ValueError as err:
                log.warning("dropping stream message %d: not a valid event (%s)", msg.metadata.sequence.stream, err)
                await self.send(msg.term)
        events.sort(key=lambda e: e[0].metadata.sequence.stream)
        if self.deferred is not None:
            if not events:
                return
            for msg, _ in events:
                await self.send(msg.ack)
            self.deferred.put_nowait((time.monotonic() + ACK_BEFORE_COMMIT_DELAY_S, [body for _, body in events]))
            return
        await self.persist(events, after_commit=self.acknowledge)

    async def persist(self, events: list, after_commit=None) -> None:
        """Writes (msg, body) pairs; calls after_commit(msg) for each one once it is committed."""
        if self.pool is not None:
            await asyncio.gather(*(self.persist_one(msg, body, after_commit) for msg, body in events))
            return
        if events and await self.writer.write([row(body) for _, body in events]):
            self.written += len(events)
            if after_commit:
                for msg, _ in events:
                    await after_commit(msg)

    async def persist_one(self, msg, body: dict, after_commit) -> None:
        """The parallel-consumer bug: its own random delay, its own connection, its own transaction."""
        await asyncio.sleep(random.uniform(0.0, PARALLEL_MAX_DELAY_S))
        writer = await self.pool.get()
        try:
            ok = await writer.write([row(body)])
        finally:
            self.pool.put_nowait(writer)
        if ok:
            self.written += 1
            if after_commit:
                await after_commit(msg)

    # --- acknowledgements ----------------------------------------------------------------------
    async def acknowledge(self, msg) -> None:
        if "no-dedupe" in self.bugs:
            self.unacked.append(msg)  # the batched-ack "optimisation"
        else:
            await self.send(msg.ack)

    async def send(self, ack) -> None:
        """A lost ack only means a redelivery, which ON CONFLICT absorbs."""
        try:
            await ack()
        except NATS_ERRORS as err:
            self.warn(f"ack not sent ({brief(err)}); the event will be redelivered")

    async def flush_acks(self) -> None:
        msgs, self.unacked = self.unacked, []
        for msg in msgs:
            await self.send(msg.ack)

    async def batched_acks(self) -> None:
        while True:
            await asyncio.sleep(DEFERRED_ACK_S)
            await self.flush_acks()

    async def deferred_writer(self) -> None:
        """The ack-before-commit bug: events acked at fetch are written from memory only later."""
        while True:
            due, bodies = await self.deferred.get()
            if not self.stopping.is_set():
                await self.pause(due - time.monotonic())
            await self.persist([(None, body) for body in bodies])
            self.deferred.task_done()


def main() -> None:
    parser = argparse.ArgumentParser(description="Event writer: JetStream -> PostgreSQL (reference system under test)")
    parser.add_argument("--pidfile")
    parser.add_argument("--name", default=CONSUMER, help=f"durable consumer name (default: {CONSUMER})")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s eventpipe-consumer %(message)s")
    settings = Settings.from_env()
    # Written at start, before NATS and PostgreSQL answer: the harness waits for the pidfile to know
    # the process is up, and the consumer keeps retrying both servers from here on.
    write_pidfile(args.pidfile)
    log.info("started as %s (bugs: %s)", args.name, ",".join(sorted(settings.bugs)) or "none")
    asyncio.run(Consumer(settings, args.name).run())


if __name__ == "__main__":
    main()
