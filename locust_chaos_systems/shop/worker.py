"""Order writer: consumes the order stream and persists each order in PostgreSQL.

Acknowledges a stream entry only after its insert committed; on start it claims
entries left pending by consumers that died; on a database error it retries with backoff.
"""
import argparse
import logging
import os
import queue
import signal
import threading
import time
from importlib import resources

import psycopg
import redis

from .pidfile import write_pidfile
from .settings import GROUP, STREAM, Settings

log = logging.getLogger("shop-worker")
BATCH = 100
# With ack-before-commit, acked entries wait in memory this long before their insert: a kill
# in the first seconds of a sale always lands while every order acked so far exists only in memory.
ACK_BEFORE_COMMIT_DELAY_S = 8.0
CLAIM_IDLE_MS = 30_000
# With slow-writer, one order per transaction and each takes this long (a slow disk): under a sale the worker
# falls behind and drains for long after the load, at about 1 / SLOW_WRITE_S orders per second.
SLOW_WRITE_S = 0.1


class Worker:
    def __init__(self, settings: Settings, consumer: str):
        self.settings = settings
        self.consumer = consumer
        self.redis = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.db = None
        self.stopping = False
        self.deferred = DeferredWriter(self) if "ack-before-commit" in settings.bugs else None
        self.slow = "slow-writer" in settings.bugs
        self.batch = 1 if self.slow else BATCH

    # --- database -------------------------------------------------------------------------
    def connect_db(self) -> None:
        backoff = 0.1
        while not self.stopping:
            try:
                self.db = psycopg.connect(self.settings.database_url, connect_timeout=2)
                self.db.execute(resources.files(__package__).joinpath("schema.sql").read_text())
                if "no-idempotency" not in self.settings.bugs:
                    self.db.execute("CREATE UNIQUE INDEX IF NOT EXISTS orders_idempotency ON orders (idempotency_key)")
                self.db.commit()
                return
            except psycopg.Error as err:
                log.warning("database unavailable (%s); retrying in %.1fs", str(err).strip(), backoff)
                self.db = None
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    def insert(self, entries) -> None:
        """Inserts a batch in one transaction; retries with backoff until it commits."""
        backoff = 0.1
        rows = [(f[b"order_id"].decode(), f[b"idempotency_key"].decode(), f[b"product_id"].decode(),
                 f[b"user_id"].decode()) for _, f in entries]
        while True:
            try:
                if self.db is None or self.db.closed:
                    self.connect_db()
                with self.db.cursor() as cur:
                    cur.executemany("INSERT INTO orders (order_id, idempotency_key, product_id, user_id) "
                                    "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)
                self.db.commit()
                if self.slow:
                    time.sleep(SLOW_WRITE_S)
                return
            except psycopg.Error as err:
                log.warning("insert failed (%s); retrying in %.1fs", str(err).strip(), backoff)
                try:
                    self.db.close()
                except Exception:
                    pass
                self.db = None
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    # --- stream ---------------------------------------------------------------------------
    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis.ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise

    def claim_orphans(self, min_idle_ms: int) -> list:
        """Entries pending for consumers that died (XAUTOCLAIM), now ours."""
        claimed, cursor = [], "0-0"
        while True:
            cursor, entries, *_ = self.redis.xautoclaim(STREAM, GROUP, self.consumer, min_idle_ms, cursor,
                                                        count=self.batch)
            claimed.extend(e for e in entries if e[1])
            if cursor in (b"0-0", "0-0"):
                return claimed

    def read(self, block_ms: int = 100) -> list:  # short: a stop signal is seen within this long when idle
        reply = self.redis.xreadgroup(GROUP, self.consumer, {STREAM: ">"}, count=self.batch, block=block_ms)
        return reply[0][1] if reply else []

    def read_own_pending(self) -> list:
        """Entries delivered to this consumer and never acknowledged (a Redis error cut the ack short)."""
        reply = self.redis.xreadgroup(GROUP, self.consumer, {STREAM: "0"}, count=self.batch)
        return [e for e in (reply[0][1] if reply else []) if e[1]]

    def handle(self, entries) -> None:
        if not entries:
            return
        ids = [eid for eid, _ in entries]
        if self.deferred:
            self.redis.xack(STREAM, GROUP, *ids)
            self.deferred.submit(entries)
            return
        self.insert(entries)
        self.redis.xack(STREAM, GROUP, *ids)

    def run(self) -> None:
        self.connect_db()
        if self.deferred:
            self.deferred.start()
        while not self.stopping:  # Redis may be down while the worker starts: keep trying
            try:
                self.ensure_group()
                self.handle(self.claim_orphans(min_idle_ms=0))
                break
            except (redis.ConnectionError, redis.TimeoutError) as err:
                log.warning("redis unavailable at start (%s); retrying", err)
                time.sleep(0.5)
        last_claim = time.monotonic()
        recheck_own = False
        while not self.stopping:
            try:
                if recheck_own:  # after a Redis error: first what this consumer read but could not ack
                    own = self.read_own_pending()
                    self.handle(own)
                    recheck_own = bool(own)
                    continue
                self.handle(self.read())
                if time.monotonic() - last_claim > CLAIM_IDLE_MS / 1000:
                    self.handle(self.claim_orphans(CLAIM_IDLE_MS))
                    last_claim = time.monotonic()
            except (redis.ConnectionError, redis.TimeoutError) as err:
                log.warning("redis unavailable (%s); retrying", err)
                time.sleep(0.5)
                self.ensure_group_quietly()
                recheck_own = True

    def ensure_group_quietly(self) -> None:
        try:
            self.ensure_group()
        except (redis.ConnectionError, redis.TimeoutError):
            pass


class DeferredWriter(threading.Thread):
    """The ack-before-commit bug: entries are acknowledged at once and written later from memory."""

    def __init__(self, worker: Worker):
        super().__init__(daemon=True, name="deferred-writer")
        self.worker = worker
        self.queue: queue.Queue = queue.Queue()

    def submit(self, entries) -> None:
        self.queue.put((time.monotonic() + ACK_BEFORE_COMMIT_DELAY_S, entries))

    def run(self) -> None:
        while True:
            due, entries = self.queue.get()
            time.sleep(max(0.0, due - time.monotonic()))
            self.worker.insert(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description="Flash-sale order writer (reference system under test)")
    parser.add_argument("--pidfile")
    parser.add_argument("--consumer", default=None, help="consumer name in the group (default: worker-<pid>)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s shop-worker %(message)s")
    worker = Worker(Settings.from_env(), args.consumer or f"worker-{os.getpid()}")

    def stop(*_):
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    write_pidfile(args.pidfile)
    log.info("started as %s (bugs: %s)", worker.consumer, ",".join(sorted(worker.settings.bugs)) or "none")
    worker.run()


if __name__ == "__main__":
    main()
