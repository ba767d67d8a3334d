"""Append-only JSON-lines records that survive a crash: each entry is fsynced before the call returns, and a
torn last line (a crash mid-write) is skipped on reading."""
import json
import os


def append_synced(path: str, entry: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_entries(path: str) -> list[dict]:
    try:
        with open(path) as f:
            lines = f.readlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
