"""The embedded stack's links through the fault proxy: the shop reaches Redis and PostgreSQL only via
named proxies, so network faults can act on them. The proxy is the embedded server, started as a stack
component, unless TOXIPROXY_URL names another Toxiproxy(-compatible) server."""
import json
import os
import sys
import urllib.error
import urllib.request

from . import procs
from .errors import TargetUnreachable
from .targets import Component

LINK_NAMES = ("redis", "postgres")


def _call(method: str, url: str, body=None, timeout: float = 5.0):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        return err.code, None
    except (urllib.error.URLError, OSError) as err:
        raise TargetUnreachable(f"fault proxy {url}: {getattr(err, 'reason', err)}") from None


def proxy_component(stack_dir: str, die_with_parent: bool) -> tuple[str, Component]:
    """The embedded proxy as a stack component on a free port."""
    port = procs.free_port()
    pidfile = os.path.join(stack_dir, "proxy.pid")
    argv = [sys.executable, "-m", "chaos_hooks.cli", "proxy", "--port", str(port), "--pidfile", pidfile]
    return f"http://127.0.0.1:{port}", Component("proxy", pidfile=pidfile, start=argv,
                                                  log=os.path.join(stack_dir, "proxy.log"),
                                                  die_with_parent=die_with_parent)


def proxy_ready(url: str) -> bool:
    return _call("GET", f"{url}/version", timeout=1)[0] == 200


def create_links(url: str, upstreams: dict[str, str]) -> dict:
    """One proxy per link, on a free loopback port. Returns name -> {listen, upstream}."""
    body = [{"name": name, "listen": f"127.0.0.1:{procs.free_port()}", "upstream": upstream, "enabled": True}
            for name, upstream in upstreams.items()]
    status, result = _call("POST", f"{url}/populate", body)
    if status != 201:
        raise TargetUnreachable(f"fault proxy {url}: POST /populate answered {status}")
    return {p["name"]: {"listen": p["listen"], "upstream": p["upstream"]} for p in result["proxies"]}


def remove_links(url: str, names) -> None:
    """Deletes the stack's proxies from a server the stack does not own (TOXIPROXY_URL)."""
    for name in names:
        try:
            _call("DELETE", f"{url}/proxies/{name}", timeout=2)
        except TargetUnreachable:
            return
