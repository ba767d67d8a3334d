"""Invariants by name, one module each, registered in registry.py. Importing the package registers the built-ins;
a plugin module (`--chaos-plugin mod`, scenario `plugins:`) registers its own the same way."""
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, Invariant, ReadUnavailable, Result, run_isolated
from chaos_hooks.invariants.registry import INVARIANTS, register
from chaos_hooks.invariants import catch_up, conservation, data_loss, duplicates, order  # noqa: E402,F401  (register the built-ins)

__all__ = ["INVARIANTS", "INVALID", "UNKNOWN", "VALID", "Invariant", "ReadUnavailable", "Result", "register",
           "run_isolated"]
