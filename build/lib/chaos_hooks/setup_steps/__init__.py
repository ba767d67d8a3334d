"""Setup step kinds (`http:`, `redis:`, `sql:`), one module each, registered in registry.py."""
from chaos_hooks.setup_steps.base import SetupFailed, Step
from chaos_hooks.setup_steps.registry import STEP_KINDS, parse_step, register
from chaos_hooks.setup_steps import http_step, redis_step, sql_step  # noqa: E402,F401  (register the kinds)

__all__ = ["STEP_KINDS", "SetupFailed", "Step", "parse_step", "register"]
