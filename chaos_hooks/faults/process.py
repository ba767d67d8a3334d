"""process.kill: SIGKILL the one process a target component names; heal by starting it again (once, and
only if no copy runs)."""
from ..components import Component
from ..errors import TargetUnreachable
from . import register
from .base import Fault


@register
class ProcessKill(Fault):
    action = "process.kill"

    def __init__(self, spec, target):
        super().__init__(spec, target)
        self.component = target.component(spec.target, f"faults.{spec.name}.target")

    def describe(self) -> str:
        return f"SIGKILL {self.component.name} ({self.component.locator()})"

    def preflight(self) -> None:
        if self.component.running_pid() is None:
            raise TargetUnreachable(f"fault {self.spec.name}: component {self.component.name!r} is not running "
                                    f"({self.component.locator()})")

    def inject(self) -> dict:
        return {"pid": self.component.kill()}

    def heal(self) -> None:
        self.component.restart()

    def heal_record(self) -> dict:
        return {"component": {"name": self.component.name, **self.component.to_dict()}}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        spec = dict(record["component"])
        Component.from_dict(spec.pop("name"), spec).restart()
