"""What bench/heal_time.py heals, started by the bench, and how it tells from outside that a heal took.

A real redis-server and PostgreSQL (an embedded stack's servers, tests/helpers.servers_only) behind links of the
project's own fault proxy; two processes the harness starts itself (`sh` writes its pid, then execs `sleep`);
and, when a Docker Engine answers, a container serving HTTP on a free host port (the tests' harness image,
tests/docker_support.py). A target profile names them all. Every check reads the thing itself — /proc, a
socket, a query, docker inspect — never the harness's own idea of it.
"""
import json
import os
import socket
import sys
import time

import psutil
import psycopg

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from helpers import servers_only  # noqa: E402

from chaos_hooks.common import procs  # noqa: E402

LATENCY_MS = 400  # the latency toxic: a round trip under a quarter of it means the toxic is gone
SLEEPERS = ("sleeper", "sleeper2")


# --- checks from outside --------------------------------------------------------------------------------------
def proc_state(pid: int | None) -> str | None:
    """The kernel's state letter of pid (R, S, T, Z, ...), None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, TypeError):
        return None


def pid_in(pidfile: str) -> int | None:
    try:
        with open(pidfile) as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def redis_rtt(address: str, timeout: float = 2.0) -> float | None:
    """Seconds for a PING on a fresh connection to address, None when it gets no PONG."""
    host, port = address.rsplit(":", 1)
    began = time.perf_counter()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            got = b""
            while len(got) < 7:
                chunk = s.recv(16)
                if not chunk:
                    return None
                got += chunk
    except OSError:
        return None
    return time.perf_counter() - began if got == b"+PONG\r\n" else None


def pg_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.Error:
        return False


def http_serves(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/1.0 200")
    except OSError:
        return False


# --- what is started ------------------------------------------------------------------------------------------
class Targets:
    """Everything the bench heals, and the profile naming it. stop() ends all of it (by pid, by container id)."""

    def __init__(self):
        self.stack = servers_only({"cache": {"kind": "redis"}, "db": {"kind": "postgresql", "database": "bench"}},
                                  links=["cache", "db"])
        self.urls = self.stack.start_servers()
        self.pidfiles = {}
        for name in SLEEPERS:  # started through the harness's own Component, so the stack's ledger has them
            self.pidfiles[name] = os.path.join(self.stack.dir, f"{name}.pid")
            self.stack.launch(self.stack.component(name, ["sh", "-c", f"echo $$ > {self.pidfiles[name]}; "
                                                                      f"exec sleep 3600"],
                                                   pidfile=self.pidfiles[name]))
        self.docker = self.container = self.http_port = None
        self.no_container = self._start_container()
        self.profile_path = os.path.join(self.stack.dir, "bench-target.json")
        with open(self.profile_path, "w") as f:
            json.dump(self.profile(), f)

    def profile(self) -> dict:
        components = {n: {**c.to_dict(), "die_with_parent": False} for n, c in self.stack.components.items()
                      if n in ("cache", "db", *SLEEPERS)}  # heals from another process outlive it
        if self.container is not None:
            components["box"] = {"container": self.container.name}
        return {"host": "http://127.0.0.1:9", "datastores": dict(self.urls), "components": components,
                "toxiproxy_url": self.stack.toxiproxy_url, "links": self.stack.links}

    def _start_container(self) -> str | None:
        """None once a container serves; else why there is none (printed, never silently left out)."""
        try:
            import docker
            client = docker.from_env(timeout=10)
            client.ping()
        except Exception as err:  # any failure to reach the engine means: no container row
            return f"no Docker Engine answers ({type(err).__name__}; `bash .ci/dockerd.sh` starts one)"
        from chaos_hooks.common.ports import free_port
        from docker_support import build_harness_image, harness_kwargs
        self.docker = client
        image, built = build_harness_image(client)
        if built:
            print(f"built the tests' harness image {image} (once per machine)", file=sys.stderr, flush=True)
        self.http_port = free_port()
        self.container = client.containers.run(**harness_kwargs(
            image, ["python", "-m", "http.server", str(self.http_port), "--bind", "127.0.0.1", "--directory", "/tmp"]))
        deadline = time.monotonic() + 30
        while not http_serves(self.http_port):
            if time.monotonic() > deadline:
                return "the container's HTTP server did not answer within 30 s"
            time.sleep(0.05)
        return None

    def own_sleepers(self) -> None:
        """Makes both sleepers children of this process again. A copy an earlier run's heal started outlives
        that run as an orphan of init, which may reap it late once killed; the heal then waits (up to 2 s) for
        the zombie to go. Every Ctrl-C round starts as the first: its processes' parent reaps them at once."""
        for name in SLEEPERS:
            pid = pid_in(self.pidfiles[name])
            if pid and psutil.Process(pid).ppid() != os.getpid():
                procs.stop_pid(pid)
                self.stack.launch(self.stack.components[name])

    # --- outside views, one per thing ----------------------------------------------------------------------
    def link_address(self, name: str) -> str:
        return self.stack.links[name]["listen"]

    def server_address(self, name: str) -> str:
        return self.urls[name].split("@")[-1].split("//")[-1].split("/")[0]

    def db_via_link(self) -> str:
        return self.urls["db"].replace(self.server_address("db"), self.link_address("db"))

    def container_state(self) -> dict:
        return self.docker.api.inspect_container(self.container.id)["State"]

    def stop(self) -> None:
        if self.container is not None:
            try:
                self.docker.api.remove_container(self.container.id, force=True, v=True)
            except Exception as err:  # noqa: BLE001 - reported, the rest is still stopped
                print(f"could not remove container {self.container.name}: {err}", file=sys.stderr)
        self.stack.down()  # every pid its ledger recorded: servers, sleepers and every copy a heal started
