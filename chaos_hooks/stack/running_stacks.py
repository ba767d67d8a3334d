"""Every embedded stack registers itself in the state dir (its directory, owner, ledger, borrowed proxy links).
After its owner dies — SIGKILL included — the next `heal`, `stack` or `run` stops whatever of it still runs
(by the pids its ledger recorded) and removes its directory. Only what a registration proves is ours is touched:
the directory must hold the marker the stack wrote."""
import json
import os
import shutil

from chaos_hooks.common import procs
from chaos_hooks.targets.ledger import Ledger
from chaos_hooks.common.home import state_dir
from chaos_hooks.stack import links

MARKER = ".locust-chaos-stack"


def _dir() -> str:
    return os.path.join(state_dir(), "stacks")


def register(stack_dir: str, owner_pid: int | None, ledger: str, system: str) -> str:
    os.makedirs(_dir(), exist_ok=True)
    with open(os.path.join(stack_dir, MARKER), "w") as f:
        f.write("created by locust-chaos; removed with its stack\n")
    path = registration_of(stack_dir)
    _write(path, {"dir": stack_dir, "owner_pid": owner_pid, "owner_started": procs.start_time(owner_pid),
                  "ledger": ledger, "system": system, "proxy": None, "links": []})
    return path


def registration_of(stack_dir: str) -> str:
    return os.path.join(_dir(), os.path.basename(stack_dir) + ".json")


def note_borrowed_links(path: str, proxy_url: str, names: list[str]) -> None:
    data = _read(path) or {}
    data.update(proxy=proxy_url, links=names)
    _write(path, data)


def unregister(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def reclaim_orphans() -> list[str]:
    """Cleans up stacks whose owner died (what their watchdog has not done already); one line each."""
    done = []
    try:
        entries = sorted(os.listdir(_dir()))
    except OSError:
        return done
    for entry in entries:
        path = os.path.join(_dir(), entry)
        data = _read(path)
        if data is None or not entry.endswith(".json"):
            continue
        owner = data.get("owner_pid")
        if owner is None or procs.same_process(owner, data.get("owner_started")):
            continue  # a `stack up` stack (no owner) or a live run
        line = reclaim(path)
        if line:
            done.append(line)
    return done


def reclaim(path: str) -> str | None:
    """Stops what a dead owner's stack left running, removes its links, directory and registration."""
    data = _read(path)
    if data is None:
        return None
    stopped = Ledger(data["ledger"]).stop_all(grace=3.0) if data.get("ledger") else []
    if data.get("proxy") and data.get("links"):
        links.remove_links(data["proxy"], data["links"])
    stack_dir = data.get("dir") or ""
    removed = bool(stack_dir) and os.path.isfile(os.path.join(stack_dir, MARKER))
    if removed:
        shutil.rmtree(stack_dir, ignore_errors=True)
    unregister(path)
    return (f"stack {os.path.basename(stack_dir)} of dead pid {data.get('owner_pid')}: "
            + (f"stopped {', '.join(stopped)}; " if stopped else "nothing left running; ")
            + ("removed its directory" if removed else "its directory was already gone"))


def _read(path: str) -> dict | None:
    try:
        with open(path) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _write(path: str, data: dict) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)
