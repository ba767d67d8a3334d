"""Crash-safe record of applied faults: intent is written (and fsynced) before a fault is applied,
and a heal record after it is undone. Whatever has no heal record is healed by `locust-chaos heal`
or the next run's preflight."""
import json
import logging
import os
import time
import uuid

log = logging.getLogger("locust_chaos.journal")


class Journal:
    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def _append(self, entry: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def intent(self, action: str, name: str, target_source: str, heal: dict) -> str:
        entry_id = uuid.uuid4().hex[:12]
        self._append({"op": "intent", "id": entry_id, "action": action, "name": name, "target": target_source,
                      "heal": heal, "ts": time.time()})
        return entry_id

    def healed(self, entry_id: str, note: str = "healed") -> None:
        self._append({"op": note, "id": entry_id, "ts": time.time()})

    def pending(self) -> list[dict]:
        if not os.path.exists(self.path):
            return []
        open_entries: dict[str, dict] = {}
        with open(self.path) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line from a crash mid-write
                if entry.get("op") == "intent":
                    open_entries[entry["id"]] = entry
                else:
                    open_entries.pop(entry.get("id"), None)
        return list(open_entries.values())

    def heal_pending(self, progress=log.info) -> list[str]:
        """Heals every fault left applied. A fault whose target profile is gone (its embedded
        stack was torn down) has nothing left to heal and is closed as moot."""
        from .faults import FAULT_ACTIONS
        from .targets import load_target
        done = []
        for entry in self.pending():
            label = f"{entry['name']} ({entry['action']})"
            target = entry.get("target")
            if target and (not os.path.exists(target) or load_target(target).gone()):
                self.healed(entry["id"], "moot")
                done.append(f"{label}: target {target} is gone, nothing to heal")
                continue
            cls = FAULT_ACTIONS.get(entry["action"])
            if cls is None:
                done.append(f"{label}: unknown action, left in the journal")
                continue
            cls.heal_from_record(entry["heal"])
            self.healed(entry["id"])
            done.append(f"{label}: healed")
            progress(f"journal: healed leftover fault {label}")
        return done
