"""Embedded stack: a reference system and its datastores as child processes on free loopback ports, started
from the system's system.yaml, with the fault proxy between the system and its linked servers. It writes a
complete target profile (the system's profile.yaml plus every address), exactly as a user would for theirs.

Never touches the machine's own servers: everything here starts from a fresh temp dir, every pid it starts is
recorded in the stack's ledger, and teardown stops each one by that pid."""
import logging
import os
import shutil
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from chaos_hooks.common import ports, procs
from chaos_hooks.targets.process import Component, start_together
from chaos_hooks.common.errors import ChaosError, TargetUnreachable
from chaos_hooks.targets.ledger import Ledger
from chaos_hooks.spec.profile import load_profile, save_profile
from chaos_hooks.common.safe_yaml import load_file
from chaos_hooks.spec.reference_systems import SystemSpec
from chaos_hooks.common.templates import TemplateError, render
from chaos_hooks.stack import links as proxy_links
from chaos_hooks.stack import running_stacks as registry
from chaos_hooks.targets.ready import is_ready
from chaos_hooks.stack.servers import SERVER_KINDS

log = logging.getLogger("locust_chaos.stack")
START_TIMEOUT_S = 30.0


def wait_until(what: str, check, timeout: float, log_path: str | None = None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as err:  # still starting; remember why for the message
            last = err
        time.sleep(0.05)
    tail = ""
    if log_path and os.path.exists(log_path):
        with open(log_path, errors="replace") as f:
            tail = " | ".join(f.read().strip().splitlines()[-3:])
    raise TargetUnreachable(f"{what} not ready within {timeout:.0f}s ({last or 'no answer'})"
                            + (f" log: {tail}" if tail else ""))


def swap_address(url: str, address: str) -> str:
    """The same URL pointing at another host:port (the proxy's listen address), credentials kept."""
    parts = urlsplit(url)
    creds = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=creds + address))


class EmbeddedStack:
    """Starts and stops one system's stack. `die_with_parent` ties every process to this one (for `run`)."""

    def __init__(self, system: SystemSpec, bugs: list[str] | None = None, die_with_parent: bool = True,
                 progress=print):
        self.system = system
        self.bugs = bugs or []
        self.die_with_parent = die_with_parent
        self.progress = progress
        self.dir = tempfile.mkdtemp(prefix="locust-chaos-stack-")
        os.chmod(self.dir, 0o755)  # PostgreSQL runs as an unprivileged user and must reach its data dir
        self.ledger = Ledger(os.path.join(self.dir, "ledger.jsonl"))
        self.registration = registry.register(self.dir, os.getpid() if die_with_parent else None,
                                              self.ledger.path, system.name)
        self.watchdog = self._start_watchdog() if die_with_parent else None
        self.components: dict[str, Component] = {}
        self.values: dict = {"python": sys.executable, "dir": self.dir}
        self.datastores: dict[str, str] = {}
        self.toxiproxy_url: str | None = None
        self.links: dict = {}
        self.external_proxy = False
        self.profile_path = os.path.join(self.dir, "target.json")

    def _start_watchdog(self):
        """Outlives nothing: stops everything the ledger recorded once this process is gone."""
        me = os.getpid()
        return procs.spawn([sys.executable, "-m", "chaos_hooks.stack.watchdog", "--owner", str(me),
                            "--owner-started", str(procs.start_time(me)), "--registration", self.registration],
                           log_path=os.path.join(self.dir, "watchdog.log"))

    # --- used by the server kinds --------------------------------------------------------------------
    def component(self, name: str, argv: list[str], pidfile: str | None = None, log: str | None = None,
                  env: dict | None = None, stop_signal: str | None = None, user: str | None = None) -> Component:
        return Component(name, pidfile=pidfile, start=argv, env=env or {}, log=log or os.path.join(self.dir,
                         f"{name}.log"), ledger=self.ledger.path, die_with_parent=self.die_with_parent,
                         start_timeout=START_TIMEOUT_S, stop_signal=stop_signal, user=user)

    def launch(self, comp: Component, ready=None) -> None:
        """Starts a component (recorded in the ledger) and waits for its pid, then for `ready` to answer."""
        self.components[comp.name] = comp
        comp.restart()
        if ready is not None:
            wait_until(comp.name, ready, START_TIMEOUT_S, comp.log)

    # --- the stack -------------------------------------------------------------------------------------
    def up(self) -> str:
        """Starts everything; returns the path of the target profile it wrote."""
        try:
            return self._up()
        except BaseException:
            self.down()
            raise

    def start_servers(self) -> dict[str, str]:
        """The system's datastore servers (and the fault proxy's links to them); returns name -> URL."""
        system = self.system
        self.progress(f"stack: starting {system.name}'s servers ({', '.join(system.servers) or 'none'}) in {self.dir}")
        for name, server in system.servers.items():
            url, comp = SERVER_KINDS[server["kind"]](self, name, server)
            self.datastores[name] = url
            self.values[f"server.{name}"] = self.values[f"link.{name}"] = url
        if system.links:
            self._start_links()
        return self.datastores

    def _up(self) -> str:
        system = self.system
        self.start_servers()
        self.values["bugs"] = ",".join(self.bugs)
        self.progress(f"stack: starting {', '.join(system.components)}"
                      + (f" (bugs: {', '.join(self.bugs)})" if self.bugs else ""))
        prepared = [self._prepare_component(name, spec) for name, spec in system.components.items()]
        self.components.update((c.name, c) for c in prepared)
        start_together(prepared)  # spawned from this thread: a child's parent-death signal follows its thread
        self._write_profile()
        profile = load_profile(self.profile_path)
        if profile.ready is not None:
            url = profile.control_host + profile.ready.path
            wait_until(f"{system.name} {profile.ready.method} {url}",
                       lambda: is_ready(profile, timeout=1),
                       START_TIMEOUT_S, self.components[system.host].log)
        addresses = ", ".join(f"{n} {_address(u)}" for n, u in self.datastores.items())
        self.progress(f"stack: ready at {self.values[f'{system.host}.url']} ({addresses}; "
                      f"fault proxy {self.toxiproxy_url or 'none'})")
        return self.profile_path

    def _start_links(self) -> None:
        upstreams = {n: _address(self.datastores[n]) for n in self.system.links}
        specs = proxy_links.link_specs(upstreams)
        url = os.environ.get("TOXIPROXY_URL", "").rstrip("/")
        if url:
            self.external_proxy = True
            self.progress(f"stack: using the fault proxy at TOXIPROXY_URL={url}")
            wait_until(f"fault proxy {url}", lambda: proxy_links.proxy_ready(url), START_TIMEOUT_S)
            registry.note_borrowed_links(self.registration, url, [s["name"] for s in specs])
            self.links = proxy_links.create_links(url, specs)
        else:
            url, argv, pidfile = proxy_links.proxy_argv(self.dir, specs)
            self.launch(self.component("proxy", argv, pidfile=pidfile), lambda: proxy_links.proxy_ready(url))
            self.links = proxy_links.links_on(url, [s["name"] for s in specs])
        self.toxiproxy_url = url
        for name, link in self.links.items():
            self.values[f"link.{name}"] = swap_address(self.datastores[name], link["listen"])

    def _prepare_component(self, name: str, spec: dict) -> Component:
        """The component with its argv and env rendered; its port and url join the values of those after it."""
        port = ports.free_port()
        own = dict(self.values, port=port, pidfile=os.path.join(self.dir, f"{name}.pid"))
        try:
            argv = [str(a) for a in render(spec["argv"], own)]
            env = {k: str(v) for k, v in render(spec["env"], own).items()}
            url = render(spec["url"], own) if spec["url"] else None
        except TemplateError as err:
            raise ChaosError(f"{self.system.source}: components.{name}: {err}") from None
        if self.system.bugs_env:
            env[self.system.bugs_env] = ",".join(self.bugs)
        self.values[f"{name}.port"] = port
        if url:
            self.values[f"{name}.url"] = url
        return self.component(name, argv, pidfile=own["pidfile"], env=env)

    def _write_profile(self) -> None:
        system = self.system
        data = dict(load_file(system.profile).data or {})
        data.update({
            "kind": "embedded", "system": system.name, "host": self.values[f"{system.host}.url"],
            "datastores": self.datastores, "ledger": self.ledger.path,
            # Copies a heal starts (from another process) must outlive that process: the watchdog ends them.
            "components": {n: {**c.to_dict(), "die_with_parent": False} for n, c in self.components.items()},
        })
        if self.toxiproxy_url:
            data.update(toxiproxy_url=self.toxiproxy_url, links=self.links)
        if self.die_with_parent:
            data.update(owner_pid=os.getpid(), owner_started=procs.start_time(os.getpid()))
        save_profile(data, self.profile_path)

    def down(self) -> list[str]:
        """Stops every process the stack ever started (its ledger), removes borrowed links and the temp dir."""
        if self.external_proxy and self.toxiproxy_url:
            proxy_links.remove_links(self.toxiproxy_url, list(self.links))
        registry.unregister(self.registration)  # first: the watchdog sees it gone and leaves
        stopped = self.ledger.stop_all()
        if self.watchdog is not None:
            procs.stop_pid(self.watchdog.pid, grace=2.0)
        shutil.rmtree(self.dir, ignore_errors=True)
        return stopped


def _address(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


def stop_saved_stack(profile_path: str) -> list[str]:
    """`stack down`: stops every process a saved embedded profile's ledger recorded, then its directory."""
    profile = load_profile(profile_path)
    stopped = Ledger(profile.ledger).stop_all() if profile.ledger else []
    if profile.toxiproxy_url and "proxy" not in profile.components and profile.links:
        proxy_links.remove_links(profile.toxiproxy_url, list(profile.links))
    stack_dir = os.path.dirname(profile.ledger) if profile.ledger else None
    if stack_dir and os.path.isfile(os.path.join(stack_dir, registry.MARKER)):
        shutil.rmtree(stack_dir, ignore_errors=True)
    if stack_dir:
        registry.unregister(registry.registration_of(stack_dir))
    return stopped
