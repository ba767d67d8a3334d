"""Process helpers: start children, signal them by pid, wait for them to go. Never by name."""
import ctypes
import os
import pwd
import signal
import subprocess
import threading
import time

import psutil

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _libc():
    return ctypes.CDLL("libc.so.6", use_errno=True)


def become_subreaper() -> None:
    """Orphans of our children (a worker restarted by a fault) are re-parented to us, so we can reap them."""
    try:
        _libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except OSError:
        pass


def _child_setup(die_with_parent: bool, user: str | None):
    parent = os.getpid()

    def setup():
        os.setsid()
        if user:
            entry = pwd.getpwnam(user)
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
        if die_with_parent:
            # After the user switch: changing credentials clears the parent-death signal, which is how
            # PostgreSQL's postmaster used to outlive a SIGKILLed owner.
            _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the signal was armed
                os._exit(1)
    return setup


def signal_when_parent_dies(signum: int):
    """A preexec_fn: the child gets signum when the process that started it dies, SIGKILL included."""
    parent = os.getpid()

    def setup():
        _libc().prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), signum)
    return setup


def spawn(argv: list[str], *, log_path: str | None, env: dict | None = None, cwd: str | None = None,
          die_with_parent: bool = False, user: str | None = None) -> subprocess.Popen:
    """Starts a child in its own session (so a terminal's Ctrl-C reaches only us), output to log_path
    (None: our own stdout and stderr). Once it ends it is reaped in the background (see _reap_children)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    log = open(log_path, "ab") if log_path else None
    try:
        child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT if log else None,
                                 stdin=subprocess.DEVNULL, env=full_env, cwd=cwd,
                                 preexec_fn=_child_setup(die_with_parent, user))
    finally:
        if log:
            log.close()
    with _children_lock:
        _children.append(child)
        if _reaper[0] is None:
            _reaper[0] = threading.Thread(target=_reap_children, name="locust-chaos-reaper", daemon=True)
            _reaper[0].start()
    return child


_children: list[subprocess.Popen] = []
_children_lock = threading.Lock()
_reaper: list = [None]


def _reap_children() -> None:
    """A child killed by another process (a fault injected from the Locust master) stays a zombie until its
    parent waits for it, and a zombie still "exists": PostgreSQL would refuse to restart over its pidfile.
    Only the Popen objects spawned here are polled, so nobody else's exit status is taken."""
    while True:
        with _children_lock:
            _children[:] = [c for c in _children if c.poll() is None]
        time.sleep(0.2)


def read_pidfile(path: str) -> int | None:
    try:
        with open(path) as f:
            first = f.readline().strip()
        return int(first) if first else None
    except (OSError, ValueError):
        return None


def _process(pid: int | None):
    if not pid:
        return None
    try:
        return psutil.Process(pid)
    except (psutil.Error, ValueError):
        return None


def start_time(pid: int | None) -> int | None:
    """The process's start time (hundredths of a second since the epoch, an int): with the pid, it names one
    process for good (a pid alone may be reused by another process later)."""
    proc = _process(pid)
    try:
        return int(round(proc.create_time() * 100)) if proc else None
    except psutil.Error:
        return None


def same_process(pid: int | None, started: int | None) -> bool:
    """True while pid runs and is the very process that started at `started`."""
    return bool(pid) and is_running(pid) and (started is None or start_time(pid) == started)


def cmdline(pid: int) -> list[str]:
    proc = _process(pid)
    try:
        return proc.cmdline() if proc else []
    except psutil.Error:
        return []


def status(pid: int | None) -> str | None:
    """psutil's status ("running", "sleeping", "stopped", "zombie", ...), None when there is no such pid."""
    proc = _process(pid)
    try:
        return proc.status() if proc else None
    except psutil.Error:
        return None


def is_running(pid: int | None) -> bool:
    """True while pid exists and is not a zombie."""
    return status(pid) not in (None, psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


def is_stopped(pid: int | None) -> bool:
    return status(pid) in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP)


def exists(pid: int | None) -> bool:
    """True while the kernel still has the pid, a zombie included (what kill(pid, 0) sees)."""
    return status(pid) not in (None, psutil.STATUS_DEAD)


def all_pids() -> list[int]:
    return psutil.pids()


def facts(pid: int) -> dict:
    """What is known of a process: user, parent, command line and whether it is a kernel thread."""
    proc = _process(pid)
    if proc is None:
        return {}
    try:
        with proc.oneshot():
            ppid, user, argv, uid = proc.ppid(), proc.username(), proc.cmdline(), proc.uids().effective
            exe = _exe(proc)
    except psutil.Error:
        return {}
    # Kernel threads: kthreadd (pid 2) and its children have no executable and no command line.
    kernel = pid == 2 or ppid == 2 or (not argv and not exe and proc.status() != psutil.STATUS_ZOMBIE)
    return {"pid": pid, "ppid": ppid, "user": user, "uid": uid, "cmdline": argv, "kernel_thread": kernel}


def _exe(proc) -> str:
    try:
        return proc.exe()
    except psutil.Error:
        return ""


def ancestors(pid: int | None = None) -> list[int]:
    """pid (default: this process) and every parent up to the top."""
    proc = _process(pid or os.getpid())
    try:
        return [proc.pid] + [p.pid for p in proc.parents()] if proc else []
    except psutil.Error:
        return [proc.pid]


def reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def signal_pid(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def wait_gone(pid: int, timeout: float) -> bool:
    """True once pid has ended (a zombie has: it runs nothing and holds nothing but its pid)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap(pid)
        if not is_running(pid):
            reap(pid)
            return True
        time.sleep(0.02)
    return False


def stop_pid(pid: int | None, grace: float = 5.0, first: str = "SIGTERM") -> None:
    """`first` (SIGTERM), then SIGKILL after grace seconds; waits until the pid is gone."""
    if not pid or not is_running(pid):
        return
    signal_pid(pid, getattr(signal, first))
    if not wait_gone(pid, grace):
        signal_pid(pid, signal.SIGKILL)
        wait_gone(pid, 5.0)


def kill_pid(pid: int) -> bool:
    """SIGKILL and wait until gone. False when the pid was not running."""
    if not is_running(pid):
        return False
    signal_pid(pid, signal.SIGKILL)
    wait_gone(pid, 5.0)
    return True


def unprivileged_user() -> str | None:
    """PostgreSQL refuses to run as root: run it as the postgres user (or nobody) when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")
