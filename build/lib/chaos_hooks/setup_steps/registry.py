"""Setup step kinds by the profile field that selects them (`http:`, `redis:`, `sql:`). Add one: a module
with a Step subclass and `register(MyStep)`."""
from chaos_hooks.reads.declared import build
from chaos_hooks.common.fields import Fields
from chaos_hooks.setup_steps.base import SetupFailed, Step

STEP_KINDS: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    STEP_KINDS[cls.kind] = cls
    return cls


def parse_step(spec, f: Fields, path: tuple, datastores: dict) -> Step:
    return build(STEP_KINDS, "a setup step", spec, f, path, datastores)
