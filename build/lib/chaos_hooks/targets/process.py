"""A component of the system under test that process faults may act on, found only by what the target names:
the pidfile it writes, a `pid_command` that prints its pid, an exact `match` of its command line, or the pid
the harness itself started. Each must name exactly one process; nothing is ever found by pattern.

restart() is idempotent and bounded: it starts nothing while any copy runs (by pidfile, pid_command, match or
the last pid it started), starts at most one copy per call, and stops that copy again when it does not come
up in time, so a broken start command can never pile up processes.
"""
import os
import subprocess
import time
from dataclasses import dataclass, field

from chaos_hooks.common import procs
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.targets.ledger import Ledger


@dataclass
class Component:
    name: str
    pidfile: str | None = None
    start: list[str] = field(default_factory=list)
    env: dict = field(default_factory=dict)
    cwd: str | None = None
    log: str | None = None
    pid_command: list[str] | None = None
    match: list[str] | None = None
    ledger: str | None = None  # where the pids the harness starts for this component are recorded
    die_with_parent: bool = False  # copies end with whoever started them (runs that own their stack)
    start_timeout: float = 15.0
    stop_signal: str | None = None  # PostgreSQL stops fast on SIGINT; SIGTERM waits for its clients
    user: str | None = None  # run as this user (PostgreSQL refuses to run as root)

    def to_dict(self) -> dict:
        out = {"pidfile": self.pidfile, "start": self.start, "env": self.env, "cwd": self.cwd, "log": self.log,
               "pid_command": self.pid_command, "match": self.match, "ledger": self.ledger,
               "die_with_parent": self.die_with_parent, "start_timeout": self.start_timeout,
               "stop_signal": self.stop_signal, "user": self.user}
        return {k: v for k, v in out.items() if v not in (None, [], {}, False)}

    @classmethod
    def from_dict(cls, name: str, data: dict) -> "Component":
        known = set(cls.__dataclass_fields__) - {"name"}
        return cls(name=name, **{k: v for k, v in data.items() if k in known})

    # --- finding the one process --------------------------------------------------------------------
    def running_pid(self) -> int | None:
        """The component's running pid, or None; raises TargetUnreachable when its locator is ambiguous."""
        if self.pidfile:
            pid = procs.read_pidfile(self.pidfile)
            if procs.is_running(pid):
                return pid
        if self.pid_command:
            pid = self._pid_from_command()
            if pid is not None:
                return pid
        if self.match:
            pid = self._pid_from_match()
            if pid is not None:
                return pid
        return self._last_started()

    def _last_started(self) -> int | None:
        return Ledger(self.ledger).last_running_pid(self.name) if self.ledger else None

    def _pid_from_command(self) -> int | None:
        try:
            out = subprocess.run(self.pid_command, capture_output=True, text=True, timeout=10).stdout.split()
        except (OSError, subprocess.SubprocessError) as err:
            raise TargetUnreachable(f"component {self.name!r}: pid_command failed: {err}") from None
        if not out:
            return None
        if len(out) != 1 or not out[0].isascii() or not out[0].isdigit():
            raise TargetUnreachable(f"component {self.name!r}: pid_command must print exactly one pid, "
                                    f"it printed {' '.join(out)[:80]!r}")
        pid = int(out[0])
        return pid if procs.is_running(pid) else None

    def _pid_from_match(self) -> int | None:
        """The one process whose command line is exactly `match` (never a pattern)."""
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and procs.cmdline(int(entry)) == self.match and procs.is_running(int(entry)):
                found.append(int(entry))
        if len(found) > 1:
            raise TargetUnreachable(f"component {self.name!r}: {len(found)} processes match {self.match} "
                                    f"(pids {', '.join(map(str, found))}); a match must name exactly one")
        return found[0] if found else None

    # --- acting on it --------------------------------------------------------------------------------
    def signal(self, sig: int) -> int:
        """Sends sig to the component's one running process; returns its pid."""
        pid = self.running_pid()
        if pid is None:
            raise TargetUnreachable(f"component {self.name!r}: no running process ({self.locator()})")
        procs.signal_pid(pid, sig)
        return pid

    def kill(self) -> int:
        """SIGKILL and wait until gone. Returns the pid."""
        pid = self.running_pid()
        if pid is None:
            raise TargetUnreachable(f"component {self.name!r}: no running process ({self.locator()})")
        procs.kill_pid(pid)
        return pid

    def locator(self) -> str:
        parts = ([f"pidfile {self.pidfile}"] if self.pidfile else []) + \
                ([f"pid_command {' '.join(self.pid_command)}"] if self.pid_command else []) + \
                ([f"match {' '.join(self.match)}"] if self.match else []) + \
                (["the pid the harness started"] if self.ledger else [])
        return ", ".join(parts) or "no locator"

    def restart(self) -> int:
        """Starts the component unless a copy already runs; returns the running pid."""
        pid = self.running_pid()
        if pid is not None:
            return pid
        if not self.start:
            raise TargetUnreachable(f"component {self.name!r} is not running and has no start command")
        old = procs.read_pidfile(self.pidfile) if self.pidfile else None
        try:
            child = procs.spawn(self.start, log_path=self.log or os.devnull, env=self.env, cwd=self.cwd,
                                die_with_parent=self.die_with_parent, user=self.user)
        except OSError as err:
            raise TargetUnreachable(f"component {self.name!r}: cannot start {self.start[0]}: "
                                    f"{err.strerror or err}") from None
        if self.ledger:
            Ledger(self.ledger).record(self.name, child.pid, self.start, self.stop_signal)
        return self._await_start(child, old)

    def _await_start(self, child: subprocess.Popen, old: int | None) -> int:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            # A start command that daemonizes exits 0 and leaves the pidfile to name the daemon.
            if child.poll() is not None and (child.returncode != 0 or not self.pidfile):
                raise TargetUnreachable(f"component {self.name!r} exited with code {child.returncode} on start"
                                        + (f" (log: {self.log})" if self.log else ""))
            if not self.pidfile:
                return child.pid  # the pid we started is the component
            pid = procs.read_pidfile(self.pidfile)
            if pid and pid != old and procs.is_running(pid):
                return pid
            time.sleep(0.02)
        procs.stop_pid(child.pid, grace=2.0)  # never leave a copy that did not come up behind
        raise TargetUnreachable(f"component {self.name!r} did not write its pidfile {self.pidfile} within "
                                f"{self.start_timeout:g}s; stopped the copy it started (pid {child.pid})")
