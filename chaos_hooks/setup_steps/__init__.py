"""Setup step kinds by the profile field that selects them (`http:`, `redis:`, `sql:`). Add one: a module
with a Step subclass and `register(MyStep)`."""
from ..fields import Fields
from .base import SetupFailed, Step

STEP_KINDS: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    STEP_KINDS[cls.kind] = cls
    return cls


def parse_step(spec, f: Fields, path: tuple, datastores: dict) -> Step:
    spec = f.mapping(spec, path)
    kinds = [k for k in spec if k in STEP_KINDS]
    if len(kinds) != 1:
        f.fail(path, f"a setup step needs exactly one of {', '.join(sorted(STEP_KINDS))}"
                     + (f" (it has {', '.join(kinds)})" if kinds else ""))
    cls = STEP_KINDS[kinds[0]]
    allowed = {cls.kind} | cls.extra_fields | ({"from"} if cls.datastore_kinds else set())
    f.mapping(spec, path, allowed)
    return cls(spec, f, path, datastores)


from . import http_step, redis_step, sql_step  # noqa: E402,F401  (register the kinds)

__all__ = ["STEP_KINDS", "SetupFailed", "Step", "parse_step", "register"]
