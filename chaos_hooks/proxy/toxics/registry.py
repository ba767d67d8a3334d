"""Toxic kinds register themselves here, one module per kind (as Toxiproxy's toxics/ directory does)."""

PASS, DROP, END, CLOSE_AFTER = "pass", "drop", "end", "close_after"  # what a chunk hook tells its pipe

KINDS: dict[str, "ToxicKind"] = {}


class ToxicKind:
    """How one kind of toxic acts on a pipe. Attributes are integers in Toxiproxy's units."""
    name = ""
    attributes: tuple[str, ...] = ()

    def chunk(self, toxic, pipe, arrived: float, pieces: list) -> tuple[list, str]:
        """Transforms the pieces [(not_before, bytes, toxic that set not_before)] of one chunk."""
        return pieces, PASS

    def end_of_stream(self, toxic, pipe) -> None:
        """The source closed: runs before the destination is closed."""

    def closes_after(self, toxic) -> float | None:
        """Seconds after which this toxic closes the whole connection whether or not data flows."""
        return None


def register(name: str, *attributes: str):
    """Class decorator: @register("latency", "latency", "jitter") makes the kind known to the API."""
    def add(cls):
        if name in KINDS:
            raise ValueError(f"toxic kind {name!r} registered twice")
        cls.name, cls.attributes = name, tuple(attributes)
        KINDS[name] = cls()
        return cls
    return add


def kind(name: str) -> ToxicKind:
    return KINDS[name]
