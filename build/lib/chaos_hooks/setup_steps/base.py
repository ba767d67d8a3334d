"""A setup step: run once per run, before the load, on the master; strings are templated with the run's
values, and a step may save what the system answered as a new run value every user then sees."""
from chaos_hooks.reads.declared import Declared
from chaos_hooks.reads.base import ReadContext


class Step(Declared):
    def saves(self) -> set[str]:
        """Run values it adds (`save:`)."""
        return set()

    def describe(self) -> str:
        return self.kind

    def run(self, ctx: ReadContext) -> dict:
        """Performs the step; returns saved values. Raises SetupFailed."""
        raise NotImplementedError


class SetupFailed(Exception):
    pass
