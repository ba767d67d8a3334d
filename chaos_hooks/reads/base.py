"""A read: how the harness asks the system what it kept. One kind per module, registered by the profile
field that selects it (`sql:`, `redis:`, `stream:`, `jetstream:`, `http:`).

A read gives either one value (a number: stock left, a backlog) or rows (a Table: what was persisted),
and raises ReadFailed with a one-line reason when the system cannot answer.
"""
from dataclasses import dataclass, field

from chaos_hooks.datastores.connections import Datastores, ReadFailed
from chaos_hooks.reads.declared import Declared
from chaos_hooks.common.fields import Fields
from chaos_hooks.common.table import Table


@dataclass
class ReadContext:
    datastores: Datastores
    values: dict  # the run's values: run_id, the scenario's values, what setup saved
    control_host: str
    marks: dict = field(default_factory=dict)  # read role -> where the run started (backlog reads scope to it)


class Read(Declared):
    """Gives one value, or rows; raises ReadFailed with a one-line reason when the system cannot answer."""

    def __init__(self, role: str, spec: dict, f: Fields, path: tuple, datastores: dict):
        self.role = role
        super().__init__(spec, f, path, datastores)

    def describe(self) -> str:
        return f"{self.kind} read"

    def unscoped(self) -> str | None:
        """Why this read would see other runs' data too (it takes no run value), or None."""
        return None

    def value(self, ctx: ReadContext):
        raise ReadFailed(f"a {self.kind} read gives rows, not one value")

    def rows(self, ctx: ReadContext) -> Table:
        raise ReadFailed(f"a {self.kind} read gives one value, not rows")


def as_number(value, what: str):
    """A read's value as int/float: Redis answers bytes, JSON may answer strings."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, bool) or value is None:
        raise ReadFailed(f"{what}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ReadFailed(f"{what}: expected a number, got {str(value)[:60]!r}") from None
