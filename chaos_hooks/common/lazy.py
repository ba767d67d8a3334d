"""Third-party modules loaded at their first use, not at import: every `locust-chaos` command and the embedded
proxy import the profile code, and most of them never talk to Docker, PostgreSQL, Redis or RabbitMQ. Loading
those client libraries up front was about half of each command's start-up time.

`docker = lazy_module("docker")` binds a stand-in whose first attribute access imports the real module (with
Python's own import lock, so threads may race to it); reach submodules as attributes (`docker.errors.NotFound`).
Modules using one put `from __future__ import annotations` first, so a signature naming `docker.DockerClient`
does not import it."""
import importlib
from types import ModuleType


class _LazyModule:
    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported at first use>"


def lazy_module(name: str) -> ModuleType:
    """A stand-in for the module `name` that imports it at the first attribute access."""
    return _LazyModule(name)  # type: ignore[return-value]
