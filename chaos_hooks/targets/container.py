"""A container of the system under test as a fault target, found only by what the profile names and only through
the Docker API (docker-py; never the docker CLI):

    {container: NAME}                 the container with exactly that name
    {service: S, index: N}            container number N of compose service S; the project comes from
    compose: {project: P, file: F}   the profile's compose section (project, else F's directory name)

Each locator must name exactly ONE container; none or several raise an error that says what was looked for
and what exists. Nothing is ever matched by pattern or prefix.

Actions and their heals:   kill -> start   stop -> start   pause -> unpause   restart -> (make sure it runs)
                           crash -> (Docker's restart policy, else start)
                           disconnect NETWORK -> connect again with the aliases and IPv4 address read before
kill is `docker kill`: Docker counts it as a manual stop and never applies the restart policy after it (seen on
Engine 20.10). crash SIGKILLs the container's main process from the host instead, as an OOM kill or a segfault
would end it; that is what restart policies answer. It needs a daemon on this host (the pid is checked to be in
the container's cgroup first).
Every action returns a small JSON-able record holding the container ID (not the name) and the Docker URL, so
heal_from_record(record) can heal from the record alone, in another process after the harness died. It is
idempotent and returns a message instead of raising when the container (or network) no longer exists.
A container whose restart policy brings it back by itself is left to Docker after a crash: the heal waits a
bounded time for that restart, reports when Docker did it (StartedAt after the crash) and starts it only when it
still is not running; note_docker_restart(record) records it.
"""
from __future__ import annotations

import os
import signal
import time

from chaos_hooks.common.errors import ScenarioError, TargetUnreachable
from chaos_hooks.common.lazy import lazy_module

docker = lazy_module("docker")
requests = lazy_module("requests")

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
SELF_RESTARTING = {"always", "unless-stopped", "on-failure"}
HEAL_WAIT = 30.0  # seconds a heal waits for a container to come up (or for Docker to restart it)


class DockerUnreachable(TargetUnreachable):
    """The Docker daemon does not answer (exit 3)."""


class ContainerNotFound(TargetUnreachable):
    """The locator names no container (exit 3: the system under test is not there)."""


class ContainerAmbiguous(ScenarioError):
    """The locator names several containers: the profile must say which (exit 2)."""


# --- the daemon -----------------------------------------------------------------------------------------
def docker_url(base_url: str | None = None) -> str:
    """The daemon address a client for base_url talks to: itself, else DOCKER_HOST, else the default socket."""
    return base_url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(base_url: str | None = None) -> docker.DockerClient:
    """A client that has answered a ping; DockerUnreachable naming the socket otherwise."""
    url = docker_url(base_url)
    try:
        client = docker.DockerClient(base_url=url, version="auto") if base_url else docker.from_env()
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as err:
        raise DockerUnreachable(f"Docker daemon at {url} does not answer: {_short(err)}") from None
    return client


def _short(err: Exception) -> str:
    text = getattr(err, "explanation", None) or str(err)
    return " ".join(str(text).split())[:200]


class ApiGuard:
    """Turns a lost daemon connection inside the block into DockerUnreachable naming the URL."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if err is not None and isinstance(err, requests.ConnectionError):
            raise DockerUnreachable(f"Docker daemon at {self.url} does not answer: {_short(err)}") from None
        return False


# --- state ----------------------------------------------------------------------------------------------
def inspect(client, container_id: str) -> dict:
    return client.api.inspect_container(container_id)


def state_from_inspect(info: dict) -> dict:
    st = info["State"]
    nets = info["NetworkSettings"].get("Networks") or {}
    return {"id": info["Id"], "name": info["Name"].lstrip("/"), "status": st["Status"],
            # While Docker restarts it, State.Running stays true with Restarting: that is not running yet.
            "running": bool(st["Running"]) and not st["Paused"] and not st["Restarting"],
            "paused": bool(st["Paused"]),
            "restarting": bool(st["Restarting"]), "pid": st["Pid"], "exit_code": st["ExitCode"],
            "started_at": st["StartedAt"], "finished_at": st["FinishedAt"], "restart_count": info["RestartCount"],
            "restart_policy": (info["HostConfig"].get("RestartPolicy") or {}).get("Name") or "no",
            "networks": {n: v.get("IPAddress") or "" for n, v in nets.items()}}


# --- finding the one container ----------------------------------------------------------------------------
def _names(entry: dict) -> list[str]:
    return [n.lstrip("/") for n in entry.get("Names") or []]


def compose_project(compose: dict) -> str:
    if compose.get("project"):
        return str(compose["project"])
    if compose.get("file"):
        # What compose itself does without -p: the file's directory name, lower-cased, [a-z0-9_-] only.
        base = os.path.basename(os.path.dirname(os.path.abspath(compose["file"])))
        return "".join(ch for ch in base.lower() if ch.isascii() and (ch.isalnum() or ch in "-_"))
    raise ScenarioError("compose: give project: NAME (or file: PATH to take the project from its directory)")


def _declared_services(path: str) -> list[str] | None:
    import yaml
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError):
        return None
    services = data.get("services") if isinstance(data, dict) else None
    return sorted(services) if isinstance(services, dict) else None


def find_by_name(client, name: str) -> dict:
    """The container list entry whose name is exactly `name`."""
    # The API's name filter matches substrings; only exact names count here.
    found = [c for c in client.api.containers(all=True, filters={"name": name}) if name in _names(c)]
    if len(found) == 1:
        return found[0]
    if not found:
        existing = sorted(n for c in client.api.containers(all=True) for n in _names(c))
        raise ContainerNotFound(f"no container named {name!r} (containers: {_listing(existing)})")
    raise ContainerAmbiguous(f"{len(found)} containers named {name!r}: {', '.join(c['Id'][:12] for c in found)}")


def find_service(client, project: str, service: str, index: int | None, file: str | None = None) -> dict:
    """The container list entry of compose service `service` number `index` (index may be omitted when the
    service has exactly one container); one-off `compose run` containers never count."""
    labels = [f"{PROJECT_LABEL}={project}", f"{SERVICE_LABEL}={service}"]
    found = [c for c in client.api.containers(all=True, filters={"label": labels})
             if (c.get("Labels") or {}).get(ONEOFF_LABEL, "False") != "True"]
    what = f"service {service!r} of compose project {project!r}"
    numbered = sorted(found, key=lambda c: int((c.get("Labels") or {}).get(NUMBER_LABEL, "0") or 0))

    def listing(entries):
        return ", ".join(f"#{(c.get('Labels') or {}).get(NUMBER_LABEL, '?')} {'/'.join(_names(c))}"
                         for c in entries)
    if not found:
        if file:
            declared = _declared_services(file)
            if declared is not None and service not in declared:
                raise ScenarioError(f"compose file {file} has no service {service!r} "
                                    f"(services: {', '.join(declared) or 'none'})")
        others = client.api.containers(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
        there = sorted({(c.get("Labels") or {}).get(SERVICE_LABEL, "?") for c in others})
        raise ContainerNotFound(f"no container of {what} (services with containers in that project: "
                                f"{', '.join(there) or 'none; is the project up?'})")
    if index is None:
        if len(found) == 1:
            return found[0]
        raise ContainerAmbiguous(f"{what} has {len(found)} containers ({listing(numbered)}): "
                                 f"give index: N to pick one")
    chosen = [c for c in found if (c.get("Labels") or {}).get(NUMBER_LABEL) == str(index)]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise ContainerNotFound(f"{what} has no container #{index} (it has {listing(numbered)})")
    raise ContainerAmbiguous(f"{what} has {len(chosen)} containers numbered {index}: {listing(chosen)}")


def _listing(names: list[str], limit: int = 20) -> str:
    if not names:
        return "none"
    more = f", ... {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


# --- the target -----------------------------------------------------------------------------------------
class ContainerTarget:
    """One container named by a profile component; see the module docstring for the spec forms."""

    def __init__(self, name: str, spec: dict, compose: dict | None = None, base_url: str | None = None,
                 client: docker.DockerClient | None = None):
        self.name = name
        self.spec = dict(spec)
        self.compose = dict(compose or self.spec.pop("compose", None) or {})
        unknown = set(self.spec) - {"container", "service", "index"}
        if unknown:
            raise ScenarioError(f"component {name!r}: unknown container keys {', '.join(sorted(unknown))} "
                                f"(give container: NAME, or service: S with index: N)")
        if ("container" in self.spec) == ("service" in self.spec):
            raise ScenarioError(f"component {name!r}: give exactly one of container: NAME or service: S")
        index = self.spec.get("index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 1):
            raise ScenarioError(f"component {name!r}: index must be a whole number >= 1, not {index!r}")
        if "service" in self.spec:
            self.project = compose_project(self.compose)
        self.url = docker_url(base_url)
        self._base_url = base_url
        self._client = client

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect(self._base_url)
        return self._client

    def locator(self) -> str:
        if "container" in self.spec:
            return f"container {self.spec['container']!r}"
        index = self.spec.get("index")
        return (f"compose service {self.spec['service']!r}{f' #{index}' if index else ''} "
                f"of project {self.project!r}")

    def resolve(self) -> str:
        """The ID of the one container the spec names, looked up now (compose may have recreated it)."""
        with ApiGuard(self.url):
            if "container" in self.spec:
                entry = find_by_name(self.client, str(self.spec["container"]))
            else:
                entry = find_service(self.client, self.project, str(self.spec["service"]), self.spec.get("index"),
                                     self.compose.get("file"))
        return entry["Id"]

    def state(self) -> dict:
        with ApiGuard(self.url):
            return state_from_inspect(inspect(self.client, self.resolve()))

    def running_pid(self) -> int | None:
        """The container's main process id while it runs (not paused), else None: what process-style checks ask."""
        s = self.state()
        return s["pid"] if s["running"] and not s["paused"] else None

    def restart_if_down(self) -> str:
        """Starts the container unless it runs (a heal): idempotent."""
        with ApiGuard(self.url):
            cid = self.resolve()
            return _ensure_running(self.client, cid, self.locator(), {"action": "start", "container_id": cid},
                                   HEAL_WAIT)

    def describe(self) -> str:
        s = self.state()
        return f"{self.name}: {self.locator()} = {s['name']} ({s['id'][:12]}), {s['status']}"

    # --- actions ----------------------------------------------------------------------------------------
    def _record(self, action: str, info: dict, **extra) -> dict:
        s = state_from_inspect(info)
        return {"target": "container", "action": action, "container_id": s["id"], "name": s["name"],
                "component": self.name, "docker_url": self.url, "at": time.time(),
                "before": {k: s[k] for k in ("status", "pid", "started_at", "restart_count")},
                "restart_policy": s["restart_policy"], **extra}

    def kill(self, signal: str = "SIGKILL") -> dict:
        with ApiGuard(self.url):
            cid = self.resolve()
            record = self._record("kill", inspect(self.client, cid), signal=signal)
            self.client.api.kill(cid, signal=signal)
        return record

    def crash(self) -> dict:
        """SIGKILL to the container's main process, from this host: Docker sees it die by itself."""
        with ApiGuard(self.url):
            cid = self.resolve()
            info = inspect(self.client, cid)
        record = self._record("crash", info)
        pid = record["before"]["pid"]
        if not info["State"]["Running"] or not pid:
            raise TargetUnreachable(f"{self.locator()} is not running (status {info['State']['Status']})")
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                ours = cid in f.read()
        except OSError:
            ours = False
        if not ours:
            raise TargetUnreachable(f"{self.locator()}: its main process (pid {pid}) is not visible here as the "
                                    f"container's; crash needs the Docker daemon at {self.url} on this host")
        os.kill(pid, signal.SIGKILL)
        return record

    def stop(self, timeout: int = 10) -> dict:
        with ApiGuard(self.url):
            cid = self.resolve()
            record = self._record("stop", inspect(self.client, cid), timeout=timeout)
            self.client.api.stop(cid, timeout=timeout)
        return record

    def pause(self) -> dict:
        with ApiGuard(self.url):
            cid = self.resolve()
            record = self._record("pause", inspect(self.client, cid))
            self.client.api.pause(cid)
        return record

    def restart(self, timeout: int = 10) -> dict:
        with ApiGuard(self.url):
            cid = self.resolve()
            record = self._record("restart", inspect(self.client, cid), timeout=timeout)
            self.client.api.restart(cid, timeout=timeout)
            after = state_from_inspect(inspect(self.client, cid))
        record["after"] = {k: after[k] for k in ("status", "pid", "started_at", "restart_count")}
        return record

    def disconnect_record(self, network: str) -> dict:
        """What a disconnect from `network` must journal before it acts: everything the heal needs to put the
        container back (network id, aliases, IPv4 address)."""
        with ApiGuard(self.url):
            cid = self.resolve()
            info = inspect(self.client, cid)
        nets = info["NetworkSettings"].get("Networks") or {}
        mode = info["HostConfig"].get("NetworkMode") or ""
        if network not in nets:
            raise ScenarioError(f"{self.locator()} is not on network {network!r} "
                                f"(it is on: {', '.join(sorted(nets)) or 'none'})")
        if network in ("host", "none") or mode in ("host", "none") or mode.startswith("container:"):
            raise ScenarioError(f"{self.locator()} uses network mode {mode!r}: it cannot be disconnected "
                                f"from {network!r}; put it on a user-defined network")
        endpoint = nets[network]
        # Docker adds the short ID as an alias by itself on connect; giving it again would double it.
        aliases = [a for a in endpoint.get("Aliases") or [] if a != cid[:12]]
        return self._record("disconnect", info, network=network, network_id=endpoint["NetworkID"],
                            aliases=aliases, ipv4_address=endpoint.get("IPAddress") or None,
                            ipv4_pinned=bool((endpoint.get("IPAMConfig") or {}).get("IPv4Address")))

    def disconnect(self, network: str, record: dict | None = None) -> dict:
        """Takes the container off `network`; what the heal needs to put it back is read first (or given)."""
        record = record or self.disconnect_record(network)
        with ApiGuard(self.url):
            self.client.api.disconnect_container_from_network(record["container_id"], record["network_id"])
        return record

    def heal(self, record: dict, timeout: float = HEAL_WAIT) -> str:
        return heal_from_record(record, client=self.client, timeout=timeout)


# --- heals ----------------------------------------------------------------------------------------------
def heal_from_record(record: dict, client: docker.DockerClient | None = None, timeout: float = HEAL_WAIT) -> str:
    """Undoes what the record's action did, from the record alone; idempotent. Returns what it did or found.
    Raises only DockerUnreachable (the daemon does not answer) and TimeoutError (it would not come up)."""
    url = record.get("docker_url")
    client = client or connect(url if url != docker_url() else None)
    cid, label = record["container_id"], f"container {record.get('name', '?')} ({record['container_id'][:12]})"
    with ApiGuard(url or docker_url()):
        try:
            if record["action"] == "pause":
                return _unpause(client, cid, label)
            if record["action"] == "disconnect":
                return _reconnect(client, cid, label, record)
            if record["action"] in ("kill", "crash", "stop", "restart"):
                return _ensure_running(client, cid, label, record, timeout)
        except docker.errors.NotFound:
            return f"{label} no longer exists; nothing to heal"
    raise ScenarioError(f"heal: unknown container action {record.get('action')!r} in record")


def _unpause(client, cid: str, label: str) -> str:
    if not state_from_inspect(inspect(client, cid))["paused"]:
        return f"{label} is not paused"
    client.api.unpause(cid)
    return f"unpaused {label}"


def docker_restarted_at(state: dict, record: dict) -> str | None:
    """StartedAt of a start made by Docker itself (restart policy) after the record's action, else None."""
    before = record.get("before") or {}
    if state["running"] and state["started_at"] != before.get("started_at"):
        return state["started_at"]
    return None


def note_docker_restart(record: dict, client: docker.DockerClient | None = None, timeout: float = 10.0) -> dict:
    """The record of a crash (or kill) with what Docker did about it within `timeout`: docker_restarted_at (its
    StartedAt after the action, or None), restart_count and status; for a container that may restart by itself."""
    client = client or connect(record["docker_url"] if record.get("docker_url") != docker_url() else None)
    deadline = time.monotonic() + timeout
    with ApiGuard(record.get("docker_url") or docker_url()):
        while True:
            state = state_from_inspect(inspect(client, record["container_id"]))
            when = docker_restarted_at(state, record)
            if when or time.monotonic() > deadline:
                return {**record, "docker_restarted_at": when, "restart_count": state["restart_count"],
                        "status": state["status"]}
            time.sleep(0.1)


def _ensure_running(client, cid: str, label: str, record: dict, timeout: float) -> str:
    state = state_from_inspect(inspect(client, cid))
    deadline = time.monotonic() + timeout
    # After a crash a restart policy brings it back: give Docker its bounded chance first.
    if (record["action"] == "crash" and state["restart_policy"] in SELF_RESTARTING) or state["restarting"]:
        while not state["running"] and time.monotonic() < deadline and not _gave_up(state):
            time.sleep(0.1)
            state = state_from_inspect(inspect(client, cid))
    if state["paused"]:
        return f"{label} is paused; a pause heal unpauses it"
    if state["running"]:
        by_docker = docker_restarted_at(state, record) if record["action"] == "crash" else None
        if by_docker:
            return (f"{label} is running: Docker restarted it at {by_docker} "
                    f"(restart policy {state['restart_policy']}, restart count {state['restart_count']})")
        return f"{label} is running (started {state['started_at']})"
    try:
        client.api.start(cid)
    except docker.errors.APIError as err:
        if "restarting" not in _short(err):
            raise
    while True:
        state = state_from_inspect(inspect(client, cid))
        if state["running"]:
            return f"started {label} (started {state['started_at']})"
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label} is not running {timeout:g}s after start (status {state['status']})")
        time.sleep(0.1)


def _gave_up(state: dict) -> bool:
    """Docker will not restart it: the policy does not apply to how it ended."""
    return state["status"] in ("exited", "dead") and state["restart_policy"] == "on-failure" \
        and state["exit_code"] == 0


def _reconnect(client, cid: str, label: str, record: dict) -> str:
    network, net_id, ip = record["network"], record["network_id"], record.get("ipv4_address")
    try:
        client.api.inspect_network(net_id)
    except docker.errors.NotFound:
        inspect(client, cid)  # NotFound here: the container went too, which says more
        return f"network {network!r} no longer exists; {label} cannot be reconnected"
    current = (inspect(client, cid)["NetworkSettings"].get("Networks") or {})
    if any(v.get("NetworkID") == net_id for v in current.values()):
        return f"{label} is on network {network!r}"
    aliases = record.get("aliases") or None
    try:
        client.api.connect_container_to_network(cid, net_id, aliases=aliases, ipv4_address=ip)
    except docker.errors.APIError as err:
        # Docker pins an address only on networks with a subnet the user configured; else take any.
        if not ip or "user configured subnets" not in _short(err):
            raise
        client.api.connect_container_to_network(cid, net_id, aliases=aliases)
    now = (inspect(client, cid)["NetworkSettings"].get("Networks") or {})
    got = next((v.get("IPAddress") for v in now.values() if v.get("NetworkID") == net_id), None)
    same = "the same address" if got == ip else f"a different address (was {ip})"
    return f"reconnected {label} to network {network!r} at {got or 'no address'} ({same})"
