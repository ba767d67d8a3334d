"""Fault families: one module each, registered by action name (registry.py). Importing the package registers the
built-ins; a plugin module (`--chaos-plugin`) registers its own the same way."""
from chaos_hooks.faults.base import Fault
from chaos_hooks.faults.registry import FAULT_ACTIONS, build_faults, register
from chaos_hooks.faults import container_disconnect, datastore, network, process, rabbitmq_connections, shell  # noqa: E402,F401

__all__ = ["FAULT_ACTIONS", "Fault", "build_faults", "register"]
