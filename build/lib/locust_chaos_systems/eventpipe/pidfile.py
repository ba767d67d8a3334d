"""Pidfiles let the harness address a component by the pid it wrote, never by name."""
import os


def write_pidfile(path: str | None) -> None:
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, path)
