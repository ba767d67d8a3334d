"""A setup step: run once per run, before the load, on the master; strings are templated with the run's
values, and a step may save what the system answered as a new run value every user then sees."""
from ..fields import Fields
from ..reads.base import ReadContext


class Step:
    kind = ""
    extra_fields: set = set()
    datastore_kinds: set = set()

    def __init__(self, spec: dict, f: Fields, path: tuple, datastores: dict):
        self.path = path
        self.source = f.where(path)
        self.store = None
        if self.datastore_kinds:
            from ..datastores import kind_of
            self.store = f.str(spec, path, "from", choices=set(datastores) or {"(none declared)"})
            if kind_of(datastores[self.store]) not in self.datastore_kinds:
                f.fail(path + ("from",), f"{self.store!r} is not a {' or '.join(sorted(self.datastore_kinds))} "
                                         f"datastore")
        self.parse(spec, f, path)

    def parse(self, spec: dict, f: Fields, path: tuple) -> None:
        pass

    def placeholders(self) -> set[str]:
        return set()

    def saves(self) -> set[str]:
        return set()

    def describe(self) -> str:
        return self.kind

    def run(self, ctx: ReadContext) -> dict:
        """Performs the step; returns saved values. Raises SetupFailed."""
        raise NotImplementedError


class SetupFailed(Exception):
    pass
