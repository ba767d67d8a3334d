"""Crash-safe record of applied faults: intent is written (and fsynced) before a fault is applied, and a heal
record after it is undone. Whatever has no heal record is healed by `locust-chaos heal` or the next run's
preflight — unless the process that applied it still runs (that run heals its own faults).

Runs are journaled too: a `run` record when a run starts (where its report goes, what a verdict names) and an
end record once its verdict is written. A run whose process is gone with no end record lost its master: the
one who finds it (`locust-chaos run`, `heal`, the next preflight) writes its interrupted verdict (lost_runs.py)."""
import importlib
import importlib.util
import logging
import os
import sys
import time
import uuid

from chaos_hooks.common import procs, secrets
from chaos_hooks.common.jsonl import append_synced, read_entries

log = logging.getLogger("locust_chaos.journal")


class Journal:
    """journal.jsonl holds heal records with secrets masked; what a heal needs verbatim (a component's env,
    say) goes to journal.private.jsonl beside it, mode 0600 in a 0700 directory, and is never printed."""

    def __init__(self, path: str):
        self.path = path
        self.private_path = path[:-len(".jsonl")] + ".private.jsonl" if path.endswith(".jsonl") else path + ".private"
        self.failed: list[str] = []  # what the last heal_pending could not heal: still applied
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        for file in (self.path, self.private_path):
            os.close(os.open(file, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
            os.chmod(file, 0o600)

    def _append(self, entry: dict) -> None:
        append_synced(self.path, entry)

    def intent(self, action: str, name: str, target_source: str, heal: dict, module: str | None = None) -> str:
        """module: where the fault's class lives, so a heal after a crash can import a user's plugin fault."""
        entry_id = uuid.uuid4().hex[:12]
        pid = os.getpid()
        masked = secrets.mask(heal)
        if masked != heal:
            append_synced(self.private_path, {"id": entry_id, "heal": heal})
        self._append({"op": "intent", "id": entry_id, "action": action, "name": name, "target": target_source,
                      "heal": masked, "module": module, "module_file": _module_file(module), "ts": time.time(),
                      "owner_pid": pid, "owner_started": procs.start_time(pid)})
        return entry_id

    def _heal_record(self, entry: dict) -> dict:
        private = {e.get("id"): e.get("heal") for e in read_entries(self.private_path)}
        return private.get(entry["id"]) or entry.get("heal") or {}

    def healed(self, entry_id: str, note: str = "healed") -> None:
        self._append({"op": note, "id": entry_id, "ts": time.time()})

    def run_started(self, run: dict) -> None:
        """run: run_id, report_dir and what a verdict written without the run needs (scenario, faults, ...)."""
        pid = os.getpid()
        self._append({**secrets.mask(run), "op": "run", "id": _run_id(run["run_id"]), "ts": time.time(),
                      "owner_pid": pid, "owner_started": procs.start_time(pid)})

    def run_ended(self, run_id: str, note: str = "run-end") -> None:
        self._append({"op": note, "id": _run_id(run_id), "ts": time.time()})

    def lost_runs(self) -> list[dict]:
        """Runs with no end record whose process is gone (it died before writing their verdict)."""
        runs: dict[str, dict] = {}
        for entry in read_entries(self.path):
            if entry.get("op") == "run" and isinstance(entry.get("id"), str):
                runs[entry["id"]] = entry
            elif entry.get("op") in ("run-end", "run-lost"):
                runs.pop(entry.get("id"), None)
        return [r for r in runs.values() if not procs.same_process(r.get("owner_pid"), r.get("owner_started"))]

    def entries_of(self, run: dict) -> list[dict]:
        """The fault records of one run: intents its process wrote after it started, and their heal records."""
        mine, out = set(), []
        for entry in read_entries(self.path):
            if entry.get("op") == "intent":
                if entry.get("owner_pid") == run.get("owner_pid") and \
                        entry.get("owner_started") == run.get("owner_started") and entry.get("ts", 0) >= run["ts"]:
                    mine.add(entry["id"])
                    out.append(entry)
            elif entry.get("id") in mine:
                out.append(entry)
        return out

    def pending(self) -> list[dict]:
        open_entries: dict[str, dict] = {}
        for entry in read_entries(self.path):
            if not isinstance(entry.get("id"), str):
                continue
            if entry.get("op") == "intent":
                open_entries[entry["id"]] = entry
            else:
                open_entries.pop(entry["id"], None)
        return list(open_entries.values())

    def heal_pending(self, progress=log.info) -> list[str]:
        """Heals every fault left applied by a process that is gone. A fault whose target is gone (its
        embedded stack was torn down) has nothing left to heal and is closed as moot. Each heal is checked from
        outside before it is journaled as healed; one that fails stays in the journal, is reported and listed
        in self.failed; nothing here raises."""
        from chaos_hooks.faults import FAULT_ACTIONS
        done = []
        self.failed = []
        for entry in reversed(self.pending()):  # last injected, first healed, as at the end of a run
            label = f"{entry.get('name')} ({entry.get('action')})"
            if _target_gone(entry.get("target")):
                self.healed(entry["id"], "moot")
                done.append(f"{label}: target {entry.get('target')} is gone, nothing to heal")
                continue
            if entry.get("owner_pid") != os.getpid() and procs.same_process(entry.get("owner_pid"),
                                                                          entry.get("owner_started")):
                done.append(f"{label}: left alone, its run (pid {entry['owner_pid']}) is still going")
                continue
            cls = FAULT_ACTIONS.get(entry.get("action")) or _import_fault(entry)
            if cls is None:
                where = f" (module {entry['module']} cannot be imported)" if entry.get("module") else ""
                done.append(f"{label}: unknown action{where}, left in the journal")
                continue
            try:
                cls.heal_from_record(self._heal_record(entry))
            except Exception as err:  # one heal failing must not stop the others
                line = secrets.mask(f"{label}: heal failed, still applied (left in the journal): {err}")
                done.append(line)
                self.failed.append(line)
                continue
            self.healed(entry["id"])
            done.append(f"{label}: healed")
            progress(f"journal: healed leftover fault {label}")
        return done


def _run_id(run_id: str) -> str:
    return f"run-{run_id}"


def _module_file(module: str | None) -> str | None:
    loaded = sys.modules.get(module or "")
    path = getattr(loaded, "__file__", None)
    return os.path.abspath(path) if path else None


def _import_fault(entry: dict):
    """A plugin's fault family: importing the module that defined it registers it again — by name, or from the
    file it was loaded from when `heal` runs where that name is not importable (another directory)."""
    from chaos_hooks.faults import FAULT_ACTIONS
    module, path = entry.get("module"), entry.get("module_file")
    if not module:
        return None
    try:
        importlib.import_module(module)
    except ImportError:
        if not path or not os.path.isfile(path):
            return None
        try:
            spec = importlib.util.spec_from_file_location(module, path)
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[module] = loaded
            spec.loader.exec_module(loaded)
        except Exception as err:  # a broken plugin is reported with the entry, never raised
            sys.modules.pop(module, None)
            log.error("journal: fault module %s (%s) cannot be loaded: %s", module, path, err)
            return None
    except Exception as err:
        log.error("journal: fault module %s cannot be imported: %s", module, err)
        return None
    return FAULT_ACTIONS.get(entry.get("action"))


def _target_gone(path: str | None) -> bool:
    from chaos_hooks.common.errors import ChaosError
    from chaos_hooks.spec.profile import load_profile
    if not path:
        return False
    if not os.path.exists(path):
        return True
    try:
        return load_profile(path).gone()
    except ChaosError:
        return False
