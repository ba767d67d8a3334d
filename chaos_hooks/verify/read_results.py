"""The reads a verification made (each a value, rows, or the reason it failed) and what was observed over
time (catch-up), handed to the invariants."""
from chaos_hooks.invariants.base import ReadUnavailable


class ReadResults:
    def __init__(self):
        self._got: dict = {}
        self._failed: dict[str, str] = {}
        self.observations: dict = {}  # name -> object (e.g. "catch_up" -> CatchUp)

    def put(self, role: str, value) -> None:
        self._got[role] = value

    def fail(self, role: str, reason: str) -> None:
        self._failed[role] = reason

    def get(self, role: str):
        if role in self._got:
            return self._got[role]
        if role in self._failed:
            raise ReadUnavailable(f"read {role!r} failed: {self._failed[role]}")
        raise ReadUnavailable(f"the target profile has no read {role!r}")

    def has(self, role: str) -> bool:
        return role in self._got

    def failures(self) -> dict[str, str]:
        return dict(self._failed)

    def observation(self, name: str):
        if name not in self.observations:
            raise ReadUnavailable(f"no {name} observation was made")
        return self.observations[name]


class RoleView:
    """ReadResults as one invariant instance sees them: its roles renamed to the reads it names."""

    def __init__(self, reads: ReadResults, roles: dict[str, str]):
        self.reads, self.roles = reads, roles
        self.observations = reads.observations

    def get(self, role: str):
        return self.reads.get(self.roles.get(role, role))

    def has(self, role: str) -> bool:
        return self.reads.has(self.roles.get(role, role))

    def failures(self) -> dict[str, str]:
        return self.reads.failures()

    def observation(self, name: str):
        return self.reads.observation(name)
