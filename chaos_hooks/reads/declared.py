"""What reads and setup steps share: a profile entry picks its kind by one field (`sql:`, `redis:`, `http:`, ...)
from a registry, accepts that kind's own fields, and names a datastore of the right kind with `from:`."""
from chaos_hooks.datastores.connections import kind_of
from chaos_hooks.common.fields import Fields


class Declared:
    kind = ""                     # the profile field that selects this kind
    extra_fields: set = set()     # other fields it accepts besides `from` and the kind's own
    datastore_kinds: set = set()  # what `from:` must name (empty: no datastore)

    def __init__(self, spec: dict, f: Fields, path: tuple, datastores: dict):
        self.path = path
        self.source = f.where(path)
        field = path + (self.kind,)
        self.located = f"{f.where(field)}: {'.'.join(str(p) for p in field)}"  # file:line: reads.role.sql
        self.store = None
        if self.datastore_kinds:
            self.store = f.str(spec, path, "from", choices=set(datastores) or {"(no datastores declared)"})
            if kind_of(datastores[self.store]) not in self.datastore_kinds:
                f.fail(path + ("from",), f"{self.store!r} is {datastores[self.store]!r}, but a {self.kind} "
                                         f"needs {' or '.join(sorted(self.datastore_kinds))}")
        self.parse(spec, f, path)

    def parse(self, spec: dict, f: Fields, path: tuple) -> None:
        """Reads the kind's own fields; fail via f.fail(path + (field,), why)."""

    def placeholders(self) -> set[str]:
        """Run values it uses (checked against what a run defines)."""
        return set()


def build(registry: dict, what: str, spec, f: Fields, path: tuple, datastores: dict, **extra):
    """The registered kind the entry names, built and validated."""
    spec = f.mapping(spec, path)
    kinds = [k for k in spec if k in registry]
    if len(kinds) != 1:
        f.fail(path, f"{what} needs exactly one of {', '.join(sorted(registry))}"
                     + (f" (it has {', '.join(kinds)})" if kinds else ""))
    cls = registry[kinds[0]]
    f.mapping(spec, path, {cls.kind} | cls.extra_fields | ({"from"} if cls.datastore_kinds else set()))
    return cls(spec=spec, f=f, path=path, datastores=datastores, **extra)


def walk_json(body, dotted: str):
    """The part of a JSON answer at `a.b.0.c`; raises LookupError when there is nothing there."""
    for part in (p for p in dotted.split(".") if p):
        try:
            body = body[int(part)] if isinstance(body, list) else body[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise LookupError(dotted) from None
    return body
