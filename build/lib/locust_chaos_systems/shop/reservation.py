"""Stock reservation in Redis: the correct atomic script, and the buggy variants the bug switches select."""
import uuid
from importlib import resources

import gevent

from .settings import IDEMPOTENCY_HASH, STREAM, stock_key

# Wide enough that concurrent buyers in a flash sale always interleave inside it.
RACE_WINDOW_S = 0.05

_SCRIPT = resources.files(__package__).joinpath("reserve.lua").read_text()


class Reservations:
    def __init__(self, redis_client, bugs: frozenset):
        self.redis = redis_client
        self.bugs = bugs
        self.script = redis_client.register_script(_SCRIPT)

    def reserve(self, key: str, product_id: str, user_id: str) -> tuple[str, str]:
        """Returns (status, order_id); status is ok, sold-out or no-sale. Redis errors propagate."""
        order_id = uuid.uuid4().hex
        if "racy-idempotency" in self.bugs:
            return self._check_then_reserve(key, order_id, product_id, user_id)
        if "non-atomic-reserve" in self.bugs or "no-idempotency" in self.bugs:
            return self._reserve_in_steps(key, order_id, product_id, user_id)
        status, oid = self.script(keys=[stock_key(product_id), IDEMPOTENCY_HASH, STREAM],
                                  args=[key, order_id, product_id, user_id])
        return _text(status), _text(oid)

    def _check_then_reserve(self, key, order_id, product_id, user_id):
        """The idempotency check and the reservation as separate calls: two requests with one key that arrive
        together both pass the check, both reserve a unit and both are acknowledged, with different order ids;
        the worker keeps one row (ON CONFLICT DO NOTHING), so one acknowledged order and one unit vanish."""
        existing = self.redis.hget(IDEMPOTENCY_HASH, key)
        if existing:
            return "ok", _text(existing)
        gevent.sleep(RACE_WINDOW_S)  # wide enough that simultaneous duplicates always both pass the check
        status, oid = self.script(keys=[stock_key(product_id), IDEMPOTENCY_HASH, STREAM],
                                  args=[key, order_id, product_id, user_id, "skip-idempotency-check"])
        return _text(status), _text(oid)

    def _reserve_in_steps(self, key, order_id, product_id, user_id):
        """Separate round trips; each bug switch removes one safeguard."""
        r = self.redis
        if "no-idempotency" not in self.bugs:
            existing = r.hget(IDEMPOTENCY_HASH, key)
            if existing:
                return "ok", _text(existing)
        if "non-atomic-reserve" in self.bugs:
            stock = r.get(stock_key(product_id))
            if stock is None:
                return "no-sale", ""
            if int(stock) <= 0:
                return "sold-out", ""
            gevent.sleep(RACE_WINDOW_S)  # read-modify-write race: others read the same stock meanwhile
            r.set(stock_key(product_id), int(stock) - 1)
        else:
            if r.get(stock_key(product_id)) is None:
                return "no-sale", ""
            if r.decr(stock_key(product_id)) < 0:
                r.incr(stock_key(product_id))
                return "sold-out", ""
        if "no-idempotency" not in self.bugs:
            r.hset(IDEMPOTENCY_HASH, key, order_id)
        r.xadd(STREAM, {"order_id": order_id, "idempotency_key": key,
                        "product_id": product_id, "user_id": user_id})
        return "ok", order_id


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
