"""Read kinds by the profile field that selects them. Add one: a module with a Read subclass and
`register(MyRead)`; a plugin module (`--chaos-plugin`) can do the same."""
from chaos_hooks.reads.declared import build
from chaos_hooks.common.fields import Fields
from chaos_hooks.reads.base import Read, ReadContext, as_number

READ_KINDS: dict[str, type[Read]] = {}


def register(cls: type[Read]) -> type[Read]:
    READ_KINDS[cls.kind] = cls
    return cls


def parse_read(role: str, spec, f: Fields, path: tuple, datastores: dict) -> Read:
    return build(READ_KINDS, "a read", spec, f, path, datastores, role=role)
