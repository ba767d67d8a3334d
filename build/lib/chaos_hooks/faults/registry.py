"""Fault families by action name. Add one: a module with a Fault subclass and `register(MyFault)`;
a plugin module (`--chaos-plugin`) can do the same."""
from chaos_hooks.faults.base import Fault

FAULT_ACTIONS: dict[str, type[Fault]] = {}


def register(cls: type[Fault]) -> type[Fault]:
    FAULT_ACTIONS[cls.action] = cls
    return cls


def build_faults(specs, target) -> list:
    """One fault per scenario entry; raises ScenarioError when a fault names something the target lacks."""
    return [FAULT_ACTIONS[spec.action](spec, target) for spec in specs]
