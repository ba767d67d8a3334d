"""Embedded stack: its own redis-server, PostgreSQL cluster, shop API and shop worker on free loopback ports.

Never touches the machine's own Redis or PostgreSQL: every server here is started from a
fresh temp dir and stopped by the pid it wrote.
"""
import glob
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.request

import psycopg
import redis

from . import procs
from .errors import TargetUnreachable
from . import stack_links
from .targets import Component, Target

log = logging.getLogger("locust_chaos.stack")
START_TIMEOUT_S = 30.0
STOP_ORDER = ("api", "worker", "proxy", "postgres", "redis")  # the shop first: it would only log errors


def find_pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise TargetUnreachable("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin "
                                "(apt-get install postgresql, or run `make setup`)")
    return os.path.dirname(found[-1])


def _wait(what: str, check, timeout: float, log_path: str | None = None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as err:  # the component is still starting; remember why for the message
            last = err
        time.sleep(0.05)
    tail = ""
    if log_path and os.path.exists(log_path):
        with open(log_path, errors="replace") as f:
            tail = " | ".join(f.read().strip().splitlines()[-3:])
    log_note = f" log: {tail}" if tail else ""
    raise TargetUnreachable(f"{what} not ready within {timeout:.0f}s ({last or 'no answer'}){log_note}")


class EmbeddedStack:
    """Starts and stops the whole stack. `die_with_parent` ties servers to this process (for `run`)."""

    def __init__(self, bugs: str = "", die_with_parent: bool = True, progress=print):
        self.bugs = bugs
        self.die_with_parent = die_with_parent
        self.progress = progress
        self.dir = tempfile.mkdtemp(prefix="locust-chaos-stack-")
        os.chmod(self.dir, 0o755)  # PostgreSQL runs as an unprivileged user and must reach its data dir
        self.target: Target | None = None
        self.components: dict[str, Component] = {}  # everything started so far, for down()
        self.external_proxy: str | None = None  # TOXIPROXY_URL: a server we use but do not own
        self.link_names: list[str] = []

    # --- servers -------------------------------------------------------------------------------
    def start_redis(self) -> tuple[str, Component]:
        port = procs.free_port()
        data = os.path.join(self.dir, "redis")
        os.makedirs(data)
        pidfile = os.path.join(self.dir, "redis.pid")
        argv = [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1",
                "--dir", data, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                "--pidfile", pidfile, "--daemonize", "no"]
        comp = Component("redis", pidfile=pidfile, start=argv, log=os.path.join(self.dir, "redis.log"))
        self.components["redis"] = comp
        procs.spawn(argv, log_path=comp.log, die_with_parent=self.die_with_parent)
        url = f"redis://127.0.0.1:{port}/0"
        _wait("redis-server", lambda: redis.Redis.from_url(url, socket_timeout=1).ping(), START_TIMEOUT_S, comp.log)
        return url, comp

    def start_postgres(self) -> tuple[str, Component]:
        pg_bin = find_pg_bin()
        user = procs.unprivileged_user()
        data = os.path.join(self.dir, "pgdata")
        sockets = os.path.join(self.dir, "pgsock")
        os.makedirs(sockets)
        if user:
            shutil.chown(sockets, user)
            shutil.chown(self.dir, user)
        logfile = os.path.join(self.dir, "postgres.log")
        init = procs.spawn([f"{pg_bin}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
                            "-E", "UTF8", "--locale=C"], log_path=logfile, user=user, die_with_parent=True)
        if init.wait(timeout=60) != 0:
            raise TargetUnreachable(f"initdb failed (log: {logfile})")
        port = procs.free_port()
        argv = [f"{pg_bin}/postgres", "-D", data, "-p", str(port), "-k", sockets,
                "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"]
        comp = Component("postgres", pidfile=os.path.join(data, "postmaster.pid"), start=argv, log=logfile)
        self.components["postgres"] = comp
        procs.spawn(argv, log_path=logfile, user=user, die_with_parent=self.die_with_parent)
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _wait("PostgreSQL", lambda: psycopg.connect(admin, connect_timeout=1).close() or True, START_TIMEOUT_S, logfile)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE shop")
        return f"postgresql://postgres@127.0.0.1:{port}/shop", comp

    # --- the shop ---------------------------------------------------------------------------------
    def _shop_component(self, name: str, module: str, extra: list[str], env: dict) -> Component:
        pidfile = os.path.join(self.dir, f"{name}.pid")
        argv = [sys.executable, "-m", module, "--pidfile", pidfile, *extra]
        return Component(name, pidfile=pidfile, start=argv, env=env, log=os.path.join(self.dir, f"{name}.log"),
                         die_with_parent=self.die_with_parent)

    def _start_component(self, comp: Component) -> None:
        self.components[comp.name] = comp
        procs.spawn(comp.start, log_path=comp.log, env=comp.env, die_with_parent=self.die_with_parent)
        _wait(comp.name, comp.running_pid, START_TIMEOUT_S, comp.log)

    def up(self) -> Target:
        try:
            return self._up()
        except BaseException:
            self.down()
            raise

    def start_links(self, redis_url: str, database_url: str) -> tuple[str, dict]:
        """The fault proxy between the shop and its datastores; returns (API url, links)."""
        specs = stack_links.link_specs({"redis": _address(redis_url), "postgres": _address(database_url)})
        url = os.environ.get("TOXIPROXY_URL", "").rstrip("/")
        if url:
            self.external_proxy = url
            self.progress(f"stack: using the fault proxy at TOXIPROXY_URL={url}")
            _wait(f"fault proxy {url}", lambda: stack_links.proxy_ready(url), START_TIMEOUT_S)
            links = stack_links.create_links(url, specs)
        else:
            url, comp = stack_links.proxy_component(self.dir, self.die_with_parent, specs)
            self._start_component(comp)
            _wait(f"fault proxy {url}", lambda: stack_links.proxy_ready(url), START_TIMEOUT_S, comp.log)
            links = stack_links.links_on(url, [s["name"] for s in specs])
        self.link_names = list(links)
        return url, links

    def _up(self) -> Target:
        self.progress(f"stack: starting redis-server and PostgreSQL in {self.dir}")
        redis_url, redis_comp = self.start_redis()
        database_url, pg_comp = self.start_postgres()
        proxy_url, links = self.start_links(redis_url, database_url)
        # The shop reaches its datastores only through the proxy; the checks read them directly.
        env = {"SHOP_REDIS_URL": redis_url.replace(_address(redis_url), links["redis"]["listen"]),
               "SHOP_DATABASE_URL": database_url.replace(_address(database_url), links["postgres"]["listen"]),
               "SHOP_BUGS": self.bugs}
        api_port = procs.free_port()
        api = self._shop_component("api", "shop.api", ["--port", str(api_port)], env)
        worker = self._shop_component("worker", "shop.worker", [], env)
        components = {"redis": redis_comp, "postgres": pg_comp, "api": api, "worker": worker}
        if "proxy" in self.components:
            components["proxy"] = self.components["proxy"]
        self.target = Target(host=f"http://127.0.0.1:{api_port}", redis_url=redis_url, database_url=database_url,
                             components=components, source=os.path.join(self.dir, "target.json"), kind="embedded",
                             owner_pid=os.getpid() if self.die_with_parent else None,
                             toxiproxy_url=proxy_url, links=links)
        self.target.save(self.target.source)
        self.progress("stack: starting shop api and worker" + (f" (SHOP_BUGS={self.bugs})" if self.bugs else ""))
        self._start_component(worker)
        self._start_component(api)
        _wait("shop api /ready", lambda: urllib.request.urlopen(f"{self.target.host}/ready", timeout=1).status == 200,
              START_TIMEOUT_S, api.log)
        self.progress(f"stack: ready at {self.target.host} (redis {_address(redis_url)}, "
                      f"postgres {_address(database_url)}, fault proxy {proxy_url})")
        return self.target

    def down(self) -> None:
        """Stops every component by the pid its pidfile names (shop first), then removes the temp dir."""
        if self.external_proxy:
            stack_links.remove_links(self.external_proxy, self.link_names)
        for name in STOP_ORDER:
            comp = self.components.get(name)
            if comp:
                _stop_component(comp)
        shutil.rmtree(self.dir, ignore_errors=True)


def _address(url: str) -> str:
    """host:port of a redis:// or postgresql:// URL."""
    return url.split("//", 1)[1].split("@")[-1].split("/")[0]


def _stop_component(comp: Component) -> int | None:
    pid = comp.running_pid()
    if pid and comp.name == "postgres":
        procs.signal_pid(pid, signal.SIGINT)  # PostgreSQL's SIGTERM waits for clients; SIGINT is its fast stop
    procs.stop_pid(pid)
    return pid


def stop_saved_stack(target_path: str) -> list[str]:
    """`stack down`: stops the components a saved profile names, by pidfile. Returns what it stopped."""
    from .targets import load_target
    target = load_target(target_path)
    if target.toxiproxy_url and "proxy" not in target.components:
        stack_links.remove_links(target.toxiproxy_url, target.links)
    stopped = []
    for name in STOP_ORDER:
        comp = target.components.get(name)
        pid = _stop_component(comp) if comp else None
        if pid:
            stopped.append(f"{name} (pid {pid})")
    runtime_dir = os.path.dirname(target.components["redis"].pidfile) if "redis" in target.components else None
    if runtime_dir and os.path.basename(runtime_dir).startswith("locust-chaos-stack-"):
        shutil.rmtree(runtime_dir, ignore_errors=True)
    return stopped
