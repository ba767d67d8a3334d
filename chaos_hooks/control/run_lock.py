"""One run per target at a time: a run holds an fcntl lock on a file under the state dir named after its
target (the profile's absolute path, else its host) for as long as its process lives; a second run against the
same target is refused (exit 3) with the first one's pid and start time. The kernel drops the lock when the
holder dies, however it dies, so a crash never leaves a stale lock."""
import fcntl
import hashlib
import json
import os
import time

from chaos_hooks.common.errors import TargetUnreachable

_held: dict[str, int] = {}  # identity -> open fd, kept for the life of the process


def identity(profile) -> str:
    source = getattr(profile, "source", "") or ""
    return os.path.realpath(source) if source and os.path.exists(source) else profile.host


def acquire(profile, state_dir: str) -> str:
    """Takes the target's lock (idempotent within one process); returns the lock file's path."""
    ident = identity(profile)
    directory = os.path.join(state_dir, "locks")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, hashlib.sha256(ident.encode()).hexdigest()[:16] + ".lock")
    if ident in _held:
        return path
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read(fd)
        os.close(fd)
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(holder.get("started", 0)))
        raise TargetUnreachable(f"{ident}: another run is using this target (pid {holder.get('pid', '?')}, "
                                f"started {since}); one run per target at a time") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "started": time.time(), "target": ident}).encode(), 0)
    _held[ident] = fd
    return path


def _read(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except ValueError:
        return {}
