"""Shop settings from the environment, shared by the API and the worker."""
import os
from dataclasses import dataclass, field

KNOWN_BUGS = ("ack-before-commit", "non-atomic-reserve", "no-idempotency", "racy-idempotency", "slow-writer")
STREAM = "orders"
GROUP = "order-writers"
IDEMPOTENCY_HASH = "idempotency"


def stock_key(product_id: str) -> str:
    return f"stock:{product_id}"


def initial_key(product_id: str) -> str:
    return f"initial:{product_id}"


@dataclass
class Settings:
    redis_url: str
    database_url: str
    bugs: frozenset = field(default_factory=frozenset)

    @classmethod
    def from_env(cls) -> "Settings":
        bugs = frozenset(b.strip() for b in os.environ.get("SHOP_BUGS", "").split(",") if b.strip())
        unknown = bugs - set(KNOWN_BUGS)
        if unknown:
            raise SystemExit(f"SHOP_BUGS: unknown bug switch {sorted(unknown)}; known: {', '.join(KNOWN_BUGS)}")
        return cls(
            redis_url=os.environ.get("SHOP_REDIS_URL", "redis://127.0.0.1:6379/0"),
            database_url=os.environ.get("SHOP_DATABASE_URL", "postgresql://127.0.0.1:5432/shop"),
            bugs=bugs,
        )
