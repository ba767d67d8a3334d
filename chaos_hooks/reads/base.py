"""A read: how the harness asks the system what it kept. One kind per module, registered by the profile
field that selects it (`sql:`, `redis:`, `stream:`, `jetstream:`, `http:`).

A read gives either one value (a number: stock left, a backlog) or rows (a Table: what was persisted),
and raises ReadFailed with a one-line reason when the system cannot answer.
"""
from dataclasses import dataclass

from ..datastores import Datastores, ReadFailed
from ..fields import Fields
from ..table import Table


@dataclass
class ReadContext:
    datastores: Datastores
    values: dict  # the run's values: run_id, the scenario's values, what setup saved
    control_host: str


class Read:
    kind = ""                     # the profile field that selects this kind
    extra_fields: set = set()     # other fields it accepts besides `from` and `kind`
    datastore_kinds: set = set()  # what `from:` must name (empty: no datastore)

    def __init__(self, role: str, spec: dict, f: Fields, path: tuple, datastores: dict):
        self.role = role
        self.path = path
        self.source = f.where(path)
        self.store = None
        if self.datastore_kinds:
            from ..datastores import kind_of
            self.store = f.str(spec, path, "from", choices=set(datastores) or {"(none declared)"})
            if kind_of(datastores[self.store]) not in self.datastore_kinds:
                f.fail(path + ("from",), f"{self.store!r} is {datastores[self.store]!r}, but a {self.kind} read "
                                         f"needs {' or '.join(sorted(self.datastore_kinds))}")
        self.parse(spec, f, path)

    def parse(self, spec: dict, f: Fields, path: tuple) -> None:
        """Reads the kind's own fields; fail via f.fail(path + (field,), why)."""

    def placeholders(self) -> set[str]:
        """Run values the read uses (checked against what a run defines)."""
        return set()

    def describe(self) -> str:
        return f"{self.kind} read"

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
