"""Reads the state the system under test really kept: orders in PostgreSQL, stock and stream in Redis."""
import time
from dataclasses import dataclass, field

import psycopg
import redis

from shop.settings import GROUP, STREAM, initial_key, stock_key

from .errors import TargetUnreachable


@dataclass
class ObservedState:
    persisted_keys: list = field(default_factory=list)  # one idempotency key per persisted row
    initial_stock: int = 0
    redis_stock: int | None = None
    caught_up: bool = False
    catch_up_s: float | None = None
    catch_up_waited_s: float = 0.0
    catch_up_reason: str = ""

    @property
    def persisted_count(self) -> int:
        return len(self.persisted_keys)


class Observer:
    def __init__(self, target, product_id: str):
        self.target = target
        self.product_id = product_id
        self.redis = redis.Redis.from_url(target.redis_url, socket_timeout=3, socket_connect_timeout=2)

    def persisted_keys(self) -> list[str]:
        try:
            with psycopg.connect(self.target.database_url, connect_timeout=3) as conn:
                # COPY streams a large table without building a cursor result per row.
                with conn.cursor().copy("COPY (SELECT idempotency_key FROM orders WHERE product_id = %s) TO STDOUT",
                                        (self.product_id,)) as copy:
                    return [row[0] for row in copy.rows()]
        except psycopg.Error as err:
            raise TargetUnreachable(f"cannot read orders from PostgreSQL ({self.target.database_url}): "
                                    f"{str(err).strip().splitlines()[0]}") from None

    def persisted_count(self) -> int:
        try:
            with psycopg.connect(self.target.database_url, connect_timeout=3) as conn:
                return conn.execute("SELECT count(*) FROM orders WHERE product_id = %s",
                                    (self.product_id,)).fetchone()[0]
        except psycopg.Error as err:
            raise TargetUnreachable(f"cannot count orders in PostgreSQL: {str(err).strip().splitlines()[0]}") from None

    def stream_backlog(self) -> tuple[int, int]:
        """(lag, pending) of the order writers' consumer group."""
        for group in self.redis.xinfo_groups(STREAM):
            name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
            if name == GROUP:
                lag = group.get("lag")
                return (int(lag) if lag is not None else 0), int(group["pending"])
        return 0, 0

    def stock(self) -> tuple[int, int | None]:
        initial, left = self.redis.mget(initial_key(self.product_id), stock_key(self.product_id))
        return int(initial or 0), (int(left) if left is not None else None)

    def wait_for_catch_up(self, acked: set, since: float, bound: float, settle: float = 10.0,
                          poll: float = 0.1) -> tuple[float | None, float, str]:
        """Waits until lag == 0, pending == 0 and every acked key is persisted.

        Returns (catch_up_s from `since`, seconds waited, reason if not caught up). Gives up at the
        bound, or earlier once the stream is drained and nothing new is persisted for `settle` s:
        acked orders missing then will never arrive.
        """
        start = time.monotonic()
        deadline = start + max(bound - (time.time() - since), 0) + 1.0
        last_count, last_change = -1, time.monotonic()
        missing, checked_at_count = len(acked), -1
        reason = "no observation yet"
        while True:
            try:
                lag, pending = self.stream_backlog()
                count = self.persisted_count()
                # The full key set only when it can settle the question: drained, and rows changed since.
                if lag == 0 and pending == 0 and count != checked_at_count:
                    missing, checked_at_count = len(acked - set(self.persisted_keys())), count
            except (redis.RedisError, TargetUnreachable) as err:
                reason = f"state unreadable: {err}"
                lag = pending = count = -1
            if lag == 0 and pending == 0 and missing == 0:
                return max(time.time() - since, 0.0), time.monotonic() - start, ""
            if count != last_count:
                last_count, last_change = count, time.monotonic()
            if lag >= 0:
                reason = f"lag {lag}, pending {pending}, {missing} acknowledged orders not persisted"
            now = time.monotonic()
            drained = lag == 0 and pending == 0
            if now >= deadline or (drained and now - last_change >= settle):
                return None, now - start, reason
            time.sleep(poll)

    def observe(self, acked: set, since: float, bound: float) -> ObservedState:
        catch_up_s, waited, reason = self.wait_for_catch_up(acked, since, bound)
        initial, left = self.stock()
        return ObservedState(persisted_keys=self.persisted_keys(), initial_stock=initial, redis_stock=left,
                             caught_up=catch_up_s is not None, catch_up_s=catch_up_s,
                             catch_up_waited_s=waited, catch_up_reason=reason)
