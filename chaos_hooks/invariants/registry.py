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


def kind_of(instance: str) -> str:
    """`no_oversell@db` is an instance of no_oversell (its own name in the verdict); `no_oversell` is itself."""
    return instance.split("@", 1)[0]


def roles_of(instance: str, params: dict) -> dict[str, str]:
    """Read role the invariant needs -> the profile's read it uses (a parameter named like the role renames it:
    `no_oversell@db: {stock_left: stock_db}`)."""
    needs = INVARIANTS[kind_of(instance)].needs
    return {role: params.get(role, role) for role in needs}


def check_params(instance: str, params: dict) -> dict:
    """The parameters the check itself takes (role renames removed)."""
    needs = INVARIANTS[kind_of(instance)].needs
    return {k: v for k, v in params.items() if k not in needs}
