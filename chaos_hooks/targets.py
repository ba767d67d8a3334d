"""Target profiles: where the system under test is and how to control its components.

A profile is a JSON or YAML file:
    host: http://127.0.0.1:8080          # the API the Locust users load
    redis_url: redis://127.0.0.1:6379/0  # read by post-run checks (directly, never through the proxy)
    database_url: postgresql://...       # read by post-run checks
    toxiproxy_url: http://127.0.0.1:8474 # optional: the Toxiproxy(-compatible) API network faults use
    links: {redis: {listen: ..., upstream: ...}}  # optional: the SUT's links through that proxy
    components:                          # what process faults may act on, by name
      worker: {pidfile: /run/shop-worker.pid, start: [python, -m, shop.worker, --pidfile, ...],
               env: {...}, cwd: ..., log: ...}
The embedded stack writes one of these; write your own to point the harness at another system.
"""
import json
import os
import time
from dataclasses import dataclass, field

import yaml

from . import procs
from .errors import ScenarioError, TargetUnreachable


@dataclass
class Component:
    name: str
    pidfile: str
    start: list[str] = field(default_factory=list)
    env: dict = field(default_factory=dict)
    cwd: str | None = None
    log: str | None = None
    die_with_parent: bool = False  # restarted copies end with whoever restarted them (runs that own their stack)

    def pid(self) -> int | None:
        return procs.read_pidfile(self.pidfile)

    def running_pid(self) -> int | None:
        pid = self.pid()
        return pid if procs.is_running(pid) else None

    def kill(self) -> int:
        """SIGKILL the pid the component's pidfile names. Returns that pid."""
        pid = self.running_pid()
        if pid is None:
            raise TargetUnreachable(f"component {self.name!r}: no running process at pidfile {self.pidfile}")
        procs.kill_pid(pid)
        return pid

    def restart(self, timeout: float = 15.0) -> int:
        """Starts the component unless it already runs (idempotent); waits for its new pidfile."""
        pid = self.running_pid()
        if pid is not None:
            return pid
        if not self.start:
            raise TargetUnreachable(f"component {self.name!r} has no start command to restart it with")
        old = self.pid()
        child = procs.spawn(self.start, log_path=self.log or os.devnull, env=self.env, cwd=self.cwd,
                            die_with_parent=self.die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.pid()
            if pid and pid != old and procs.is_running(pid):
                return pid
            if child.poll() is not None:
                raise TargetUnreachable(f"component {self.name!r} exited with code {child.returncode} on restart"
                                        f" (log: {self.log})")
            time.sleep(0.02)
        raise TargetUnreachable(f"component {self.name!r} did not write its pidfile within {timeout:.0f}s")


@dataclass
class Target:
    host: str
    redis_url: str
    database_url: str
    components: dict[str, Component]
    source: str = "<memory>"
    kind: str = "custom"
    owner_pid: int | None = None  # a stack that lives only as long as this process (`locust-chaos run`)
    toxiproxy_url: str | None = None  # the Toxiproxy-compatible API network faults use
    links: dict = field(default_factory=dict)  # proxy name -> {listen, upstream}: the SUT's links through it

    def gone(self) -> bool:
        """True when the process that owned this stack has ended, and the stack with it."""
        return self.owner_pid is not None and not procs.is_running(self.owner_pid)

    def component(self, name: str, field_name: str = "target") -> Component:
        if name not in self.components:
            known = ", ".join(sorted(self.components)) or "none"
            raise ScenarioError(f"{field_name}: unknown target component {name!r} in {self.source} (known: {known})")
        return self.components[name]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "owner_pid": self.owner_pid, "toxiproxy_url": self.toxiproxy_url,
                "links": self.links, "host": self.host, "redis_url": self.redis_url,
                "database_url": self.database_url,
                "components": {n: {"pidfile": c.pidfile, "start": c.start, "env": c.env, "cwd": c.cwd, "log": c.log}
                               for n, c in self.components.items()}}

    def save(self, path: str) -> None:
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            json.dump(self.to_dict(), f, indent=2)
        os.replace(tmp, path)


def load_target(path: str) -> Target:
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: target profile not found (start one with `locust-chaos stack up`)") from None
    except yaml.YAMLError as err:
        raise ScenarioError(f"{path}: not valid YAML/JSON: {err}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a target profile is a mapping")
    for key in ("host", "redis_url", "database_url"):
        if not isinstance(data.get(key), str):
            raise ScenarioError(f"{path}: field {key!r} is required (a string)")
    owner_pid = data.get("owner_pid")
    components = {}
    for name, spec in (data.get("components") or {}).items():
        if not isinstance(spec, dict) or not isinstance(spec.get("pidfile"), str):
            raise ScenarioError(f"{path}: components.{name}.pidfile is required (a path)")
        start = spec.get("start") or []
        if not isinstance(start, list) or not all(isinstance(a, str) for a in start):
            raise ScenarioError(f"{path}: components.{name}.start must be a list of strings")
        components[name] = Component(name=name, pidfile=spec["pidfile"], start=start,
                                     env={str(k): str(v) for k, v in (spec.get("env") or {}).items()},
                                     cwd=spec.get("cwd"), log=spec.get("log"), die_with_parent=owner_pid is not None)
    return Target(host=data["host"].rstrip("/"), redis_url=data["redis_url"], database_url=data["database_url"],
                  components=components, source=path, kind=data.get("kind", "custom"), owner_pid=owner_pid,
                  toxiproxy_url=data.get("toxiproxy_url"), links=data.get("links") or {})


def default_target_path() -> str:
    """Where `locust-chaos stack up` leaves its profile; LOCUST_CHAOS_TARGET overrides."""
    return os.environ.get("LOCUST_CHAOS_TARGET") or os.path.join(state_dir(), "stack", "target.json")


def state_dir() -> str:
    return os.environ.get("LOCUST_CHAOS_HOME") or os.path.join(os.getcwd(), ".locust-chaos")
