"""Invariants by name. Add one: a module defining a check(history, reads, params) -> Result and a
`register(...)` call; a plugin module (`--chaos-plugin mod`, scenario `plugins:`) can do the same."""
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, Invariant, ReadUnavailable, Result, run_isolated

INVARIANTS: dict[str, Invariant] = {}


def register(name: str, params: dict | None = None, needs: dict | None = None, description: str = ""):
    """Decorator: registers check(history, reads, params) under name."""
    def wrap(check):
        INVARIANTS[name] = Invariant(name, check, params or {}, needs or {}, description or (check.__doc__ or ""))
        return check
    return wrap
