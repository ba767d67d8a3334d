"""process.kill: SIGKILL the process a target component's pidfile names; heal by restarting it."""
from ..targets import Component
from .base import Fault


class ProcessKill(Fault):
    action = "process.kill"
    params: dict = {}

    def __init__(self, spec, target):
        super().__init__(spec, target)
        self.component = target.component(spec.target, f"faults.{spec.name}.target")

    def describe(self) -> str:
        return f"SIGKILL {self.component.name} (pidfile {self.component.pidfile})"

    def inject(self) -> dict:
        return {"pid": self.component.kill()}

    def heal(self) -> None:
        self.component.restart()

    def heal_record(self) -> dict:
        c = self.component
        return {"component": {"name": c.name, "pidfile": c.pidfile, "start": c.start, "env": c.env,
                              "cwd": c.cwd, "log": c.log, "die_with_parent": c.die_with_parent}}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        Component(**record["component"]).restart()
