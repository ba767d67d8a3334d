"""Addresses of a compose project's published ports, through the Docker API (what `docker compose port` prints),
so host and datastore addresses come from the running project instead of being copied by hand:

    published_address({"project": "shop"}, "shop-api", 8080)          -> "127.0.0.1:49153"
    published_addresses({"project": "shop"}, {"api": ("shop-api", 8080), "db": ("postgres", 5432)})
    published_url({"project": "shop"}, "redis://redis:6379/0", "redis", 6379)   -> "redis://127.0.0.1:49154/0"

The service's container is found as ContainerTarget finds it (exactly one, or the one numbered `index`).
A binding on every interface (0.0.0.0 or ::) is given as the matching loopback address, which is connectable.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from chaos_hooks.common.errors import ScenarioError, TargetUnreachable
from chaos_hooks.targets.container import ApiGuard, compose_project, connect, docker_url, find_service, inspect

if TYPE_CHECKING:  # docker is loaded at first use (chaos_hooks.common.lazy)
    import docker


def published_address(compose: dict, service: str, port: int, protocol: str = "tcp", index: int | None = None,
                      client: docker.DockerClient | None = None, base_url: str | None = None) -> str:
    """host:port where `port`/`protocol` of the service's container is published on the Docker host."""
    client = client or connect(base_url)
    project = compose_project(compose)
    with ApiGuard(docker_url(base_url)):
        entry = find_service(client, project, service, index, compose.get("file"))
        info = inspect(client, entry["Id"])
    ports = info["NetworkSettings"].get("Ports") or {}
    key = f"{int(port)}/{protocol}"
    bindings = ports.get(key) or []
    name = info["Name"].lstrip("/")
    state = info["State"]
    if not state.get("Running") or state.get("Restarting"):
        # A stopped container publishes nothing: that is the service being down, not a wrong port.
        raise TargetUnreachable(f"compose service {service!r} of project {project!r} ({name}) is not running "
                                f"(status {state.get('Status')}); start it, then run again")
    if not bindings:
        published = sorted(k for k, v in ports.items() if v)
        mode = info["HostConfig"].get("NetworkMode") or ""
        hint = f"; it uses network mode {mode!r}, where ports are not published" if mode == "host" else ""
        raise ScenarioError(f"compose service {service!r} of project {project!r} ({name}) does not publish "
                            f"{key} (published: {', '.join(published) or 'none'}){hint}")
    # IPv4 first: it is what the harness's own clients reach on this host.
    binding = sorted(bindings, key=lambda b: ":" in (b.get("HostIp") or ""))[0]
    host = binding.get("HostIp") or "0.0.0.0"
    if host == "0.0.0.0":
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host:
        host = f"[{host}]"
    return f"{host}:{binding['HostPort']}"


def published_addresses(compose: dict, wanted: dict, client: docker.DockerClient | None = None,
                        base_url: str | None = None) -> dict:
    """{name: host:port} for {name: (service, port)} or {name: (service, port, index)}."""
    client = client or connect(base_url)
    out = {}
    for name, spec in wanted.items():
        service, port, *rest = spec
        out[name] = published_address(compose, service, port, index=rest[0] if rest else None, client=client,
                                      base_url=base_url)
    return out


def published_url(compose: dict, url: str, service: str, port: int, index: int | None = None,
                  client: docker.DockerClient | None = None, base_url: str | None = None) -> str:
    """`url` with its host:port replaced by where `port` of the service is published (credentials, path and
    query kept)."""
    address = published_address(compose, service, port, index=index, client=client, base_url=base_url)
    parts = urlsplit(url)
    creds = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=creds + address))
