"""Fault families by action name. Register your own: FAULT_ACTIONS["my.action"] = MyFault."""
from .process import ProcessKill

FAULT_ACTIONS = {cls.action: cls for cls in (ProcessKill,)}
