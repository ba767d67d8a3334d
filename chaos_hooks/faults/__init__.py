"""Fault families by action name. Register your own: FAULT_ACTIONS["my.action"] = MyFault."""
from .process import ProcessKill

FAULT_ACTIONS = {cls.action: cls for cls in (ProcessKill,)}


def build_faults(specs, target) -> list:
    """One fault per scenario entry; raises ScenarioError when a fault names something the target lacks."""
    return [FAULT_ACTIONS[spec.action](spec, target) for spec in specs]
