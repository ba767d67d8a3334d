"""Read kinds, one module each, registered by the profile field that selects them (registry.py). Importing the
package registers the built-ins; a plugin module (`--chaos-plugin`) registers its own the same way."""
from chaos_hooks.reads.base import Read, ReadContext, as_number
from chaos_hooks.reads.registry import READ_KINDS, parse_read, register
from chaos_hooks.reads import http_json_read, jetstream, rabbitmq_queue, redis_command, sql, stream  # noqa: E402,F401

__all__ = ["READ_KINDS", "Read", "ReadContext", "as_number", "parse_read", "register"]
