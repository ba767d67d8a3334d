"""Names and connection URLs shared by the API and the worker, so the two cannot drift apart."""
import os

STREAM = "holds"
GROUP = "hold-writers"
REQUESTS_HASH = "hold-requests"  # Idempotency-Key -> hold id


def stock_key(sku: str) -> str:
    return f"stock:{sku}"


def redis_url() -> str:
    return os.environ.get("HOLDS_REDIS_URL", "redis://127.0.0.1:6379/0")


def database_url() -> str:
    return os.environ.get("HOLDS_DATABASE_URL", "postgresql://127.0.0.1:5432/holds")
