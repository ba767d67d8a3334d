"""Read kinds by the profile field that selects them. Add one: a module with a Read subclass and
`register(MyRead)`; a plugin module (`--chaos-plugin`) can do the same."""
from ..fields import Fields
from .base import Read, ReadContext, as_number

READ_KINDS: dict[str, type[Read]] = {}


def register(cls: type[Read]) -> type[Read]:
    READ_KINDS[cls.kind] = cls
    return cls


def parse_read(role: str, spec, f: Fields, path: tuple, datastores: dict) -> Read:
    spec = f.mapping(spec, path)
    kinds = [k for k in spec if k in READ_KINDS]
    if len(kinds) != 1:
        f.fail(path, f"a read needs exactly one of {', '.join(sorted(READ_KINDS))}"
                     + (f" (it has {', '.join(kinds)})" if kinds else ""))
    cls = READ_KINDS[kinds[0]]
    allowed = {cls.kind, "from"} | cls.extra_fields if cls.datastore_kinds else {cls.kind} | cls.extra_fields
    f.mapping(spec, path, allowed)
    return cls(role, spec, f, path, datastores)


from . import http_json_read, jetstream, redis_command, sql, stream  # noqa: E402,F401  (register the kinds)

__all__ = ["READ_KINDS", "Read", "ReadContext", "as_number", "parse_read", "register"]
