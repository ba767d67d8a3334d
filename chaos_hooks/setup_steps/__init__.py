"""Setup step kinds by the profile field that selects them (`http:`, `redis:`, `sql:`). Add one: a module
with a Step subclass and `register(MyStep)`."""
from ..declared import build
from ..fields import Fields
from .base import SetupFailed, Step

STEP_KINDS: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    STEP_KINDS[cls.kind] = cls
    return cls


def parse_step(spec, f: Fields, path: tuple, datastores: dict) -> Step:
    return build(STEP_KINDS, "a setup step", spec, f, path, datastores)


from . import http_step, redis_step, sql_step  # noqa: E402,F401  (register the kinds)

__all__ = ["STEP_KINDS", "SetupFailed", "Step", "parse_step", "register"]
