"""Every process the harness starts for a target, recorded (and fsynced) the moment it is started:
pid, start time and component. Teardown stops each one still running, restarts check it before starting
another copy, and after a crash the next `heal` finds them. A pid is only ever signalled while its start
time matches, so a reused pid is never touched."""
import time

from chaos_hooks.common import procs
from chaos_hooks.common.jsonl import append_synced, read_entries


class Ledger:
    def __init__(self, path: str):
        self.path = path

    def record(self, component: str, pid: int, argv: list[str], stop_signal: str | None = None) -> None:
        append_synced(self.path, {"component": component, "pid": pid, "started": procs.start_time(pid),
                                  "argv": argv[:4], "ts": time.time(),
                                  **({"stop_signal": stop_signal} if stop_signal else {})})

    def entries(self) -> list[dict]:
        return [e for e in read_entries(self.path) if isinstance(e.get("pid"), int)]

    def running(self, component: str | None = None) -> list[dict]:
        """Entries whose process still runs (same pid and start time)."""
        return [e for e in self.entries() if (component is None or e.get("component") == component)
                and procs.same_process(e["pid"], e.get("started"))]

    def last_running_pid(self, component: str) -> int | None:
        alive = self.running(component)
        return alive[-1]["pid"] if alive else None

    def stop_all(self, grace: float = 5.0) -> list[str]:
        """Stops every recorded process still running, newest first; returns what it stopped."""
        stopped = []
        for entry in reversed(self.running()):
            procs.stop_pid(entry["pid"], grace=grace, first=entry.get("stop_signal") or "SIGTERM")
            stopped.append(f"{entry.get('component')} (pid {entry['pid']})")
        return stopped
