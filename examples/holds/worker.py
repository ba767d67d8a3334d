"""Hold writer: consumes the holds stream and keeps each hold in PostgreSQL.

An entry is acknowledged only after the transaction holding its row committed, so a crash at any
point leaves it pending for the next start to claim; ON CONFLICT DO NOTHING makes that replay harmless.
"""
import argparse
import logging
import os
import signal
import time
from importlib import resources

import psycopg
import redis

from .pidfile import write_pidfile
from .settings import GROUP, STREAM, database_url, redis_url

log = logging.getLogger("holds-worker")
BATCH = 100
BLOCK_MS = 500  # short, so a SIGTERM is noticed within half a second when the stream is idle
SCHEMA = resources.files(__package__).joinpath("schema.sql").read_text()
INSERT = "INSERT INTO holds (hold_id, request_key, sku) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)


class Worker:
    def __init__(self, consumer: str):
        self.consumer = consumer
        self.redis = redis.Redis.from_url(redis_url(), socket_timeout=5, socket_connect_timeout=2)
        self.db: psycopg.Connection | None = None
        self.stopping = False

    # --- PostgreSQL ---------------------------------------------------------------------------
    def connect_db(self) -> bool:
        """Connects and applies the schema, retrying with backoff; False only if asked to stop meanwhile."""
        backoff = 0.1
        while not self.stopping:
            try:
                self.db = psycopg.connect(database_url(), connect_timeout=2)
                self.db.execute(SCHEMA)
                self.db.commit()
                return True
            except psycopg.Error as err:
                log.warning("database unavailable (%s); retrying in %.1fs", str(err).strip(), backoff)
                self.drop_db()
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
        return False

    def drop_db(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except Exception:
                pass
        self.db = None

    def insert(self, entries) -> bool:
        """Writes the batch in one transaction, retrying the same batch until it commits.
        Returns False only when asked to stop before a commit: the entries then stay pending (unacked)."""
        rows = [(f[b"hold_id"].decode(), f[b"request_key"].decode(), f[b"sku"].decode()) for _, f in entries]
        backoff = 0.1
        while True:
            if self.db is None and not self.connect_db():
                return False
            try:
                with self.db.cursor() as cur:
                    cur.executemany(INSERT, rows)
                self.db.commit()
                return True
            except psycopg.Error as err:
                log.warning("insert failed (%s); retrying in %.1fs", str(err).strip(), backoff)
                self.drop_db()  # closing discards the open transaction: nothing half-written survives
                if self.stopping:
                    return False
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    # --- Redis stream -------------------------------------------------------------------------
    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis.ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise

    def ensure_group_quietly(self) -> None:
        """A Redis restarted without persistence has lost the group; the read loop recreates it."""
        try:
            self.ensure_group()
        except REDIS_ERRORS:
            pass

    def claim_orphans(self) -> list:
        """Entries left pending by consumers that died, now ours (min idle 0: anything pending)."""
        claimed, cursor = [], "0-0"
        while True:
            cursor, entries, *_ = self.redis.xautoclaim(STREAM, GROUP, self.consumer, 0, cursor, count=BATCH)
            claimed.extend(e for e in entries if e[1])  # entries trimmed from the stream come back empty
            if cursor in (b"0-0", "0-0"):
                return claimed

    def read(self) -> list:
        reply = self.redis.xreadgroup(GROUP, self.consumer, {STREAM: ">"}, count=BATCH, block=BLOCK_MS)
        return reply[0][1] if reply else []

    def ack(self, entries) -> None:
        """Retries through Redis outages; if we stop first, the entries stay pending and are replayed harmlessly."""
        ids = [eid for eid, _ in entries]
        while True:
            try:
                self.redis.xack(STREAM, GROUP, *ids)
                return
            except REDIS_ERRORS as err:
                if self.stopping:
                    return
                log.warning("ack failed (%s); retrying", err)
                time.sleep(0.5)

    def handle(self, entries) -> None:
        for start in range(0, len(entries), BATCH):
            batch = entries[start:start + BATCH]
            if not self.insert(batch):
                return  # never ack what did not commit
            self.ack(batch)

    # --- main loop ----------------------------------------------------------------------------
    def run(self) -> None:
        if not self.connect_db():
            return
        while not self.stopping:
            try:
                self.ensure_group()
                self.handle(self.claim_orphans())
                break
            except REDIS_ERRORS as err:
                log.warning("redis unavailable at start (%s); retrying", err)
                time.sleep(0.5)
        while not self.stopping:
            try:
                self.handle(self.read())
            except REDIS_ERRORS as err:
                log.warning("redis unavailable (%s); retrying", err)
                time.sleep(0.5)
                self.ensure_group_quietly()
            except redis.ResponseError as err:
                if "NOGROUP" not in str(err):
                    raise
                self.ensure_group_quietly()
        self.drop_db()
        log.info("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description="Inventory hold writer (example system)")
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s holds-worker %(message)s")
    worker = Worker(f"worker-{os.getpid()}")

    def stop(*_):
        worker.stopping = True  # checked between batches: the current batch finishes first

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    write_pidfile(args.pidfile)
    log.info("started as %s", worker.consumer)
    worker.run()


if __name__ == "__main__":
    main()
