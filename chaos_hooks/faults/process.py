"""Process faults on the one process a target component names (pidfile, pid_command, match, or the pid the
harness started):

    process.kill     SIGKILL; healed by starting it again (once, and only if no copy runs)
    process.pause    SIGSTOP; healed by SIGCONT to that very process (pid and start time are journaled first,
                     so a crash in between still ends in SIGCONT — it is never left stopped)
    process.term     SIGTERM, a graceful stop; healed by starting it again
    process.restart  SIGTERM, then started again at once (the heal only makes sure it runs)
"""
import signal
import time

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
        self.where = f"{target.source}: components.{self.component.name}"

    def preflight(self) -> None:
        """The one process is found and may be acted on (ownership.check): refused before any load."""
        self.component.allowed_pid(self.where)

    def acting_on(self) -> tuple[int, dict]:
        pid, how = self.component.allowed_pid(self.where)
        return pid, {"pid": pid, "process": f"pid {pid} {how}"}

    def heal(self) -> None:
        self.heal_from_record(self.heal_record())

    def heal_record(self) -> dict:
        return {"component": {"name": self.component.name, **self.component.to_dict()}}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        if is_container_record(record):
            return heal_container_record(record)
        spec = dict(record["component"])
        component = Component.from_dict(spec.pop("name"), spec)
        component.die_with_parent = False  # healed from another process: the copy must outlive that one
        component.verify_up(component.restart())


@register
class ProcessKill(_ComponentFault):
    action = "process.kill"

    def describe(self) -> str:
        return f"SIGKILL {self.component.name} ({self.component.locator()})"

    def inject(self) -> dict:
        pid, facts = self.acting_on()
        procs.kill_pid(pid)
        return facts


@register
class ProcessTerm(_ComponentFault):
    action = "process.term"
    params = {"grace": "duration"}

    def describe(self) -> str:
        return f"SIGTERM {self.component.name}, SIGKILL after {self.spec.params.get('grace', 10):g}s"

    def inject(self) -> dict:
        pid, facts = self.acting_on()
        procs.stop_pid(pid, grace=self.spec.params.get("grace", 10.0))
        return facts


@register
class ProcessRestart(ProcessTerm):
    action = "process.restart"

    def describe(self) -> str:
        return f"restart {self.component.name} (SIGTERM, then start)"

    def inject(self) -> dict:
        facts = super().inject()
        facts["new_pid"] = self.component.verify_up(self.component.restart())
        return facts


@register
class ProcessPause(_ComponentFault):
    action = "process.pause"

    def __init__(self, spec, target):
        super().__init__(spec, target)
        self.paused: tuple[int, int | None] | None = None
        self.facts: dict = {}

    def describe(self) -> str:
        return f"SIGSTOP {self.component.name} (SIGCONT at heal)"

    def heal_record(self) -> dict:
        # The pid is fixed before the journal entry is written: the heal continues exactly this process.
        pid, self.facts = self.acting_on()
        self.paused = (pid, procs.start_time(pid))
        return {"pid": pid, "started": self.paused[1]}

    def inject(self) -> dict:
        if self.paused is None or not procs.same_process(*self.paused):
            raise TargetUnreachable(f"{self.where}: no running process to pause")
        procs.signal_pid(self.paused[0], signal.SIGSTOP)
        return dict(self.facts)

    def heal(self) -> None:
        if self.paused is not None:
            self.heal_from_record({"pid": self.paused[0], "started": self.paused[1]})

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        """SIGCONT, then checked from outside: the process is no longer stopped (or has ended)."""
        if is_container_record(record):
            return heal_container_record(record)
        pid, started = record.get("pid"), record.get("started")
        for delay in (0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6):
            time.sleep(delay)
            if not procs.same_process(pid, started):
                return  # it ended: nothing is left stopped
            procs.signal_pid(pid, signal.SIGCONT)
            time.sleep(0.02)
            if not procs.is_stopped(pid):
                return
        raise TargetUnreachable(f"pid {pid} is still stopped after SIGCONT")
