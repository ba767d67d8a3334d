"""A fault family: inject(), heal(), a description, and what the journal needs to heal it after a crash."""


class Fault:
    action = ""
    params: dict = {}  # extra scenario fields this action accepts: name -> "duration" | "int" | "str" | ...

    def __init__(self, spec, target):
        self.spec = spec
        self.target = target

    def describe(self) -> str:
        return f"{self.action} on {self.spec.target}"

    def preflight(self) -> None:
        """Raises TargetUnreachable when the fault could not be applied now (checked before any load)."""

    def inject(self) -> dict:
        """Applies the fault; returns facts worth reporting (a pid, say)."""
        raise NotImplementedError

    def heal(self) -> None:
        """Undoes the fault. Must be idempotent."""
        raise NotImplementedError

    def heal_record(self) -> dict:
        """Everything heal_from_record needs, written to the journal before inject()."""
        raise NotImplementedError

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        raise NotImplementedError
