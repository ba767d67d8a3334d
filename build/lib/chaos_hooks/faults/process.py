"""Process faults on the one process a target component names (pidfile, pid_command, match, or the pid the
harness started):

    process.kill     SIGKILL; healed by starting it again (once, and only if no copy runs)
    process.pause    SIGSTOP; healed by SIGCONT to that very process (pid and start time are journaled first,
                     so a crash in between still ends in SIGCONT — it is never left stopped)
    process.term     SIGTERM, a graceful stop; healed by starting it again
    process.restart  SIGTERM, then started again at once (the heal only makes sure it runs)
"""
import signal

from chaos_hooks.common import procs
from chaos_hooks.targets.process import Component
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.faults.registry import register
from chaos_hooks.faults.base import Fault
from chaos_hooks.faults.container import container_fault, heal_container_record, is_container_record


class _ComponentFault(Fault):
    def __new__(cls, spec, target):
        # A container component: the same action through the Docker API (faults/container.py).
        return container_fault(cls, spec, target) or super().__new__(cls)

    def __init__(self, spec, target):
        super().__init__(spec, target)
        self.component = target.component(spec.target, f"faults.{spec.name}.target")

    def preflight(self) -> None:
        if self.component.running_pid() is None:
            raise TargetUnreachable(f"fault {self.spec.name}: component {self.component.name!r} is not running "
                                    f"({self.component.locator()})")

    def heal(self) -> None:
        self.component.restart()

    def heal_record(self) -> dict:
        return {"component": {"name": self.component.name, **self.component.to_dict()}}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        if is_container_record(record):
            return heal_container_record(record)
        spec = dict(record["component"])
        Component.from_dict(spec.pop("name"), spec).restart()


@register
class ProcessKill(_ComponentFault):
    action = "process.kill"

    def describe(self) -> str:
        return f"SIGKILL {self.component.name} ({self.component.locator()})"

    def inject(self) -> dict:
        return {"pid": self.component.kill()}


@register
class ProcessTerm(_ComponentFault):
    action = "process.term"
    params = {"grace": "duration"}

    def describe(self) -> str:
        return f"SIGTERM {self.component.name}, SIGKILL after {self.spec.params.get('grace', 10):g}s"

    def inject(self) -> dict:
        pid = self.component.running_pid()
        if pid is None:
            raise TargetUnreachable(f"component {self.component.name!r}: no running process")
        procs.stop_pid(pid, grace=self.spec.params.get("grace", 10.0))
        return {"pid": pid}


@register
class ProcessRestart(ProcessTerm):
    action = "process.restart"

    def describe(self) -> str:
        return f"restart {self.component.name} (SIGTERM, then start)"

    def inject(self) -> dict:
        facts = super().inject()
        facts["new_pid"] = self.component.restart()
        return facts


@register
class ProcessPause(_ComponentFault):
    action = "process.pause"

    def __init__(self, spec, target):
        super().__init__(spec, target)
        self.paused: tuple[int, int | None] | None = None

    def describe(self) -> str:
        return f"SIGSTOP {self.component.name} (SIGCONT at heal)"

    def heal_record(self) -> dict:
        # The pid is fixed before the journal entry is written: the heal continues exactly this process.
        pid = self.component.running_pid()
        self.paused = (pid, procs.start_time(pid)) if pid else None
        return {"pid": pid, "started": self.paused[1] if self.paused else None}

    def inject(self) -> dict:
        if self.paused is None or not procs.same_process(*self.paused):
            raise TargetUnreachable(f"component {self.component.name!r}: no running process to pause")
        procs.signal_pid(self.paused[0], signal.SIGSTOP)
        return {"pid": self.paused[0]}

    def heal(self) -> None:
        if self.paused is not None:
            self.heal_from_record({"pid": self.paused[0], "started": self.paused[1]})

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        if is_container_record(record):
            return heal_container_record(record)
        if procs.same_process(record.get("pid"), record.get("started")):
            procs.signal_pid(record["pid"], signal.SIGCONT)
