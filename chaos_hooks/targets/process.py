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
from chaos_hooks.targets import ownership
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
        return self.resolve()[0]

    def resolve(self) -> tuple[int | None, str]:
        """(pid, how it was found) — "from /run/w.pid", "printed by pid_command ...", ... — or (None, locator)."""
        if self.pidfile:
            pid = procs.read_pidfile(self.pidfile)
            if procs.is_running(pid):
                return pid, f"from {self.pidfile}"
        if self.pid_command:
            pid = self._pid_from_command()
            if pid is not None:
                return pid, f"printed by pid_command {' '.join(self.pid_command)}"
        if self.match:
            pid = self._pid_from_match()
            if pid is not None:
                return pid, f"matching {' '.join(self.match)}"
        pid = self._last_started()
        if pid is not None:
            return pid, "started by the harness (its ledger)"
        return None, self.locator()

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
        found = [pid for pid in procs.all_pids() if procs.cmdline(pid) == self.match and procs.is_running(pid)]
        if len(found) > 1:
            raise TargetUnreachable(f"component {self.name!r}: {len(found)} processes match {self.match} "
                                    f"(pids {', '.join(map(str, found))}); a match must name exactly one")
        return found[0] if found else None

    # --- acting on it --------------------------------------------------------------------------------
    def allowed_pid(self, where: str | None = None) -> tuple[int, str]:
        """The running pid and how it was found, once ownership.check allows acting on it."""
        pid, how = self.resolve()
        where = where or f"component {self.name}"
        if pid is None:
            raise TargetUnreachable(f"{where}: no running process ({how})")
        ownership.check(where, pid, how, self.user)
        return pid, how

    def signal(self, sig: int) -> int:
        """Sends sig to the component's one running process; returns its pid."""
        pid, _ = self.allowed_pid()
        procs.signal_pid(pid, sig)
        return pid

    def kill(self) -> int:
        """SIGKILL and wait until gone. Returns the pid."""
        pid, _ = self.allowed_pid()
        procs.kill_pid(pid)
        return pid

    def locator(self) -> str:
        parts = ([f"pidfile {self.pidfile}"] if self.pidfile else []) + \
                ([f"pid_command {' '.join(self.pid_command)}"] if self.pid_command else []) + \
                ([f"match {' '.join(self.match)}"] if self.match else []) + \
                (["a pid the harness started"] if self.ledger else [])
        return ", ".join(parts) or "no locator"

    def restart(self) -> int:
        """Starts the component unless a copy already runs; returns the running pid. A start that fails for a
        known transient cause (the old copy still holds its lock file, shared memory or port) is retried with
        backoff."""
        begun = self.begin_start()
        return begun.running if begun.child is None else self.finish_start(begun)

    def begin_start(self) -> "Starting":
        """The first half of restart(): spawns a copy unless one already runs, and does not wait for it."""
        pid = self.running_pid()
        if pid is not None:
            return Starting(running=pid)
        if not self.start:
            raise TargetUnreachable(f"component {self.name!r} is not running and has no start command")
        old = self._clear_stale_pidfile()
        return Starting(child=self._spawn(), old=old)

    def finish_start(self, begun: "Starting") -> int:
        """The second half: awaits the spawned copy's pid; a transient failure is started again, with backoff."""
        delay = 0.25
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                return self._await_start(begun.child, begun.old)
            except _TransientStart as err:
                if attempt == START_ATTEMPTS:
                    raise TargetUnreachable(f"{err} (tried {START_ATTEMPTS} times)") from None
            time.sleep(delay)
            delay = min(delay * 2, 4.0)
            old = self._clear_stale_pidfile()
            begun = Starting(child=self._spawn(), old=old)
        raise AssertionError("unreachable")

    def _clear_stale_pidfile(self) -> int | None:
        """Waits until the pid the pidfile names is gone, then removes that pidfile when its pid is dead: a
        daemon (PostgreSQL) refuses to start over a lock file whose pid the kernel still knows, and a killed
        postmaster is a zombie until whoever adopted it reaps it — it holds nothing but its pid."""
        old = procs.read_pidfile(self.pidfile) if self.pidfile else None
        if not old:
            return old
        began = time.monotonic()
        while procs.exists(old) and time.monotonic() - began < OLD_COPY_GONE_S:
            if not procs.is_running(old) and time.monotonic() - began > ZOMBIE_GRACE_S:
                break  # a zombie nobody reaps soon: dead all the same
            time.sleep(0.05)
        if procs.is_running(old):
            raise TargetUnreachable(f"component {self.name!r}: pid {old} from {self.pidfile} still runs "
                                    f"{OLD_COPY_GONE_S:g}s after it was found stopped")
        if procs.read_pidfile(self.pidfile) == old:
            try:
                os.remove(self.pidfile)
            except OSError:
                pass
        return old

    def _spawn(self) -> subprocess.Popen:
        try:
            child = procs.spawn(self.start, log_path=self.log or os.devnull, env=self.env, cwd=self.cwd,
                                die_with_parent=self.die_with_parent, user=self.user)
        except OSError as err:
            raise TargetUnreachable(f"component {self.name!r}: cannot start {self.start[0]}: "
                                    f"{err.strerror or err}") from None
        if self.ledger:
            Ledger(self.ledger).record(self.name, child.pid, self.start, self.stop_signal)
        return child

    def _log_size(self) -> int:
        try:
            return os.path.getsize(self.log) if self.log else 0
        except OSError:
            return 0

    def _transient_in_log(self, since: int) -> str | None:
        if not self.log:
            return None
        try:
            with open(self.log, "rb") as f:
                f.seek(since)
                text = f.read().decode(errors="replace")
        except OSError:
            return None
        return next((line.strip() for line in text.splitlines() if any(t in line for t in TRANSIENT_START)), None)

    def _await_start(self, child: subprocess.Popen, old: int | None) -> int:
        log_from = max(0, self._log_size() - 4096)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            # A start command that daemonizes exits 0 and leaves the pidfile to name the daemon.
            if child.poll() is not None and (child.returncode != 0 or not self.pidfile):
                why = f"component {self.name!r} exited with code {child.returncode} on start" + \
                      (f" (log: {self.log})" if self.log else "")
                transient = self._transient_in_log(log_from)
                if transient:
                    raise _TransientStart(f"{why}: {transient[:160]}")
                raise TargetUnreachable(why)
            if not self.pidfile:
                return child.pid  # the pid we started is the component
            pid = procs.read_pidfile(self.pidfile)
            if pid and pid != old and procs.is_running(pid):
                return pid
            time.sleep(0.02)
        procs.stop_pid(child.pid, grace=2.0)  # never leave a copy that did not come up behind
        raise TargetUnreachable(f"component {self.name!r} did not write its pidfile {self.pidfile} within "
                                f"{self.start_timeout:g}s; stopped the copy it started (pid {child.pid})")

    def verify_up(self, pid: int, settle: float = 0.3, timeout: float = 10.0) -> int:
        """Checks from outside that the component answers as a process: the pid the locator finds runs and is
        not stopped, and still does after `settle` seconds (a copy that dies at once is not healed)."""
        deadline = time.monotonic() + timeout
        while True:
            now, how = self.resolve()
            if now is not None and not procs.is_stopped(now):
                time.sleep(settle)
                again, _ = self.resolve()
                if again == now and not procs.is_stopped(now):
                    return now
            if time.monotonic() >= deadline:
                state = f"pid {now} {how} is {procs.status(now)}" if now else f"no running process ({how})"
                raise TargetUnreachable(f"component {self.name!r} is not up after its heal: {state}")
            time.sleep(0.1)


class _TransientStart(TargetUnreachable):
    """A start that failed because the old copy had not let go yet: worth another try."""


START_ATTEMPTS = 6
OLD_COPY_GONE_S = 15.0
ZOMBIE_GRACE_S = 2.0
TRANSIENT_START = ('lock file "postmaster.pid" already exists', "is still in use", "Address already in use",
                   "could not bind", "could not create lock file")


@dataclass
class Starting:
    """A start in progress: the copy spawned and the pid its pidfile named before (or the pid already running)."""
    child: subprocess.Popen | None = None
    old: int | None = None
    running: int | None = None


def start_together(components: list["Component"]) -> None:
    """Starts components that do not wait for each other: all spawned first, then each awaited (its pidfile),
    so they come up side by side."""
    begun = [(comp, comp.begin_start()) for comp in components]
    for comp, start in begun:
        if start.child is not None:
            comp.finish_start(start)
