"""Can the harness reach a target? Its ready check, every datastore it names and its fault proxy — checked
before any load; the first failure is one line naming the profile and the check (exit 3)."""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

from chaos_hooks.common.lazy import lazy_module
from chaos_hooks.datastores.connections import address, kind_of, one_line
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.common.http_json import http_json
from chaos_hooks.targets.ready import check_ready

psycopg = lazy_module("psycopg")
redis = lazy_module("redis")


def _check_datastore(url: str) -> None:
    kind = kind_of(url)
    if kind == "redis":
        redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3).ping()
    elif kind == "postgresql":
        psycopg.connect(url, connect_timeout=3).close()
    elif kind == "amqp":
        parts = urlsplit(url)
        socket.create_connection((parts.hostname, parts.port or 5672), timeout=3).close()
    elif kind == "nats":
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port or 4222), timeout=3) as sock:
            sock.settimeout(3)
            if not sock.recv(5).startswith(b"INFO"):
                raise ConnectionError("not a NATS server")


def check_reachable(profile) -> list[str]:
    """Returns what was checked; raises TargetUnreachable at the first failure."""
    done = []
    url = check_ready(profile)
    if url is not None:
        done.append(f"ready {url}")
    for name, url in profile.datastores.items():
        try:
            _check_datastore(url)
        except (redis.RedisError, psycopg.Error, OSError) as err:
            raise TargetUnreachable(f"{profile.source}: datastores.{name} ({address(url)}): {one_line(err)}") \
                from None
        done.append(f"datastore {name} {address(url)}")
    if profile.toxiproxy_url:
        try:
            status, _ = http_json("GET", f"{profile.toxiproxy_url}/version", timeout=5)
        except TargetUnreachable as err:
            raise TargetUnreachable(f"{profile.source}: toxiproxy_url: {err}") from None
        if status != 200:
            raise TargetUnreachable(f"{profile.source}: toxiproxy_url: /version answered {status}")
        done.append(f"fault proxy {profile.toxiproxy_url}")
    return done
