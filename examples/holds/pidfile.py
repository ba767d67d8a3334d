"""Pidfiles let the harness signal a component by the pid it wrote, never by its name."""
import os


def write_pidfile(path: str | None) -> None:
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, path)  # atomic: a reader never sees a half-written pid
