"""shell.command: a command of the target profile's `commands:` and its heal command (Chaos Toolkit's process
provider), each with a timeout — for what no other family covers.

    commands:
      drain-node: {run: [kubectl, drain, node-1], heal: [kubectl, uncordon, node-1], timeout: 30s}
"""
import subprocess

from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.faults.registry import register
from chaos_hooks.faults.base import Fault


def _run(argv: list[str], timeout: float, what: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TargetUnreachable(f"{what} {argv[0]} did not finish within {timeout:g}s") from None
    except OSError as err:
        raise TargetUnreachable(f"{what} {argv[0]}: {err.strerror or err}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        raise TargetUnreachable(f"{what} {argv[0]} exited {done.returncode}: {tail[0][:200]}")
    return done.stdout.strip()[-200:]


@register
class ShellCommand(Fault):
    action = "shell.command"

    def __init__(self, spec, target):
        super().__init__(spec, target)
        self.command = target.named(target.commands, "command", spec.target, f"faults.{spec.name}.target")

    def describe(self) -> str:
        return f"run {' '.join(self.command['run'])}" + (
            f", heal with {' '.join(self.command['heal'])}" if self.command.get("heal") else "")

    def inject(self) -> dict:
        return {"output": _run(self.command["run"], self.command["timeout"], "command")}

    def heal(self) -> None:
        self.heal_from_record(self.heal_record())

    def heal_record(self) -> dict:
        return {"heal": self.command.get("heal") or [], "timeout": self.command["timeout"]}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        if record.get("heal"):
            _run(record["heal"], record.get("timeout", 30.0), "heal command")
