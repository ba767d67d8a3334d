"""The embedded stack's links through the fault proxy: the system reaches its linked servers only via named
proxies, so network faults can act on them. The proxy is the embedded server, started as a stack component
with its links in a config file (so a restarted proxy comes back with them), unless TOXIPROXY_URL names
another Toxiproxy(-compatible) server."""
import json
import os
import sys

from chaos_hooks.common import ports
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.common.http_json import http_json


def link_specs(upstreams: dict[str, str]) -> list[dict]:
    """One proxy per link, each on its own free loopback port (fixed for the stack's life)."""
    return [{"name": name, "listen": f"127.0.0.1:{ports.free_port()}", "upstream": upstream, "enabled": True}
            for name, upstream in upstreams.items()]


def proxy_argv(stack_dir: str, specs: list[dict]) -> tuple[str, list[str], str]:
    """(API url, argv, pidfile) of the embedded proxy on a free port, creating its links at every start."""
    port = ports.free_port()
    pidfile = os.path.join(stack_dir, "proxy.pid")
    config = os.path.join(stack_dir, "proxy-links.json")
    with open(config, "w") as f:
        json.dump(specs, f, indent=2)
    argv = [sys.executable, "-m", "chaos_hooks.proxy", "--port", str(port), "--pidfile", pidfile,
            "--config", config]
    return f"http://127.0.0.1:{port}", argv, pidfile


def proxy_ready(url: str) -> bool:
    try:
        return http_json("GET", f"{url}/version", timeout=1)[0] == 200
    except TargetUnreachable:
        return False


def links_on(url: str, names) -> dict:
    """name -> {listen, upstream} as the server reports them."""
    status, proxies = http_json("GET", f"{url}/proxies")
    if status != 200 or not set(names) <= set(proxies or {}):
        raise TargetUnreachable(f"fault proxy {url}: proxies {sorted(names)} not found")
    return {n: {"listen": proxies[n]["listen"], "upstream": proxies[n]["upstream"]} for n in names}


def create_links(url: str, specs: list[dict]) -> dict:
    """Creates (or replaces) the links on a server the stack does not own."""
    status, _ = http_json("POST", f"{url}/populate", specs)
    if status != 201:
        raise TargetUnreachable(f"fault proxy {url}: POST /populate answered {status}")
    return links_on(url, [s["name"] for s in specs])


def remove_links(url: str, names) -> None:
    """Deletes the stack's proxies from a server the stack does not own (TOXIPROXY_URL)."""
    for name in names:
        try:
            http_json("DELETE", f"{url}/proxies/{name}", timeout=2)
        except TargetUnreachable:
            return
