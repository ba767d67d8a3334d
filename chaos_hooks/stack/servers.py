"""Datastore servers the embedded stack runs as child processes, each on a free loopback port in the stack's
own directory: redis-server, a PostgreSQL cluster (initdb's result, copied: pg_template), nats-server with
JetStream. One function per kind, registered in SERVER_KINDS; each returns the server's URL and the Component
that (re)starts it."""
from __future__ import annotations

import glob
import os
import shutil
import socket

from chaos_hooks.common.lazy import lazy_module
from chaos_hooks.common import ports, procs
from chaos_hooks.stack import pg_template
from chaos_hooks.spec.reference_systems import SERVER_KINDS as system_server_kinds
from chaos_hooks.common.errors import TargetUnreachable

psycopg = lazy_module("psycopg")
redis = lazy_module("redis")


def find_pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise TargetUnreachable("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin "
                                "(apt-get install postgresql, or run `make setup`)")
    return os.path.dirname(found[-1])


def _binary(name: str, package: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if not path:
        raise TargetUnreachable(f"{name} not found (apt-get install {package}, or run `make setup`)")
    return path


def redis_server(stack, name: str, options: dict):
    port = ports.free_port()
    data = os.path.join(stack.dir, name)
    os.makedirs(data)
    pidfile = os.path.join(stack.dir, f"{name}.pid")
    argv = [_binary("redis-server", "redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--dir", data,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--pidfile", pidfile,
            "--daemonize", "no"]
    comp = stack.component(name, argv, pidfile=pidfile)
    url = f"redis://127.0.0.1:{port}/0"
    stack.launch(comp, lambda: redis.Redis.from_url(url, socket_timeout=1).ping())
    return url, comp


def postgresql(stack, name: str, options: dict):
    pg_bin = find_pg_bin()
    user = procs.unprivileged_user()
    data = os.path.join(stack.dir, name)
    sockets = os.path.join(stack.dir, f"{name}-sock")
    os.makedirs(sockets)
    if user:
        shutil.chown(sockets, user)
        shutil.chown(stack.dir, user)  # initdb creates the data dir inside it as that user
    logfile = os.path.join(stack.dir, f"{name}.log")
    pg_template.new_cluster(pg_bin, data, user, logfile)
    port = ports.free_port()
    argv = [f"{pg_bin}/postgres", "-D", data, "-p", str(port), "-k", sockets, "-c", "listen_addresses=127.0.0.1",
            "-c", "max_connections=200", "-c", "fsync=on"]
    comp = stack.component(name, argv, pidfile=os.path.join(data, "postmaster.pid"), log=logfile,
                           stop_signal="SIGINT", user=user)
    admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    stack.launch(comp, lambda: psycopg.connect(admin, connect_timeout=1).close() or True)
    database = options.get("database", "app")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    return f"postgresql://postgres@127.0.0.1:{port}/{database}", comp


def nats_server(stack, name: str, options: dict):
    port = ports.free_port()
    store = os.path.join(stack.dir, name)
    pidfile = os.path.join(stack.dir, f"{name}.pid")
    argv = [_binary("nats-server", "nats-server"), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store,
            "-P", pidfile]
    comp = stack.component(name, argv, pidfile=pidfile)
    stack.launch(comp, lambda: _nats_info(port))
    return f"nats://127.0.0.1:{port}", comp


def _nats_info(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        return sock.recv(5) == b"INFO "


SERVER_KINDS = {"redis": redis_server, "postgresql": postgresql, "nats": nats_server}
assert set(SERVER_KINDS) == set(system_server_kinds), "a server kind system.yaml accepts has no starter"
