"""Network faults on a link (a proxy of the target's Toxiproxy-compatible server, `toxiproxy_url` + `links` in
the profile), through toxiproxy-python — the same scenario works against the embedded proxy and a real
Toxiproxy. Each adds toxics named after the fault, so its heal removes exactly those:

    network.latency     latency, jitter (ms)            network.bandwidth   rate (KB/s)
    network.timeout     timeout (ms; 0 = hold forever)   network.reset_peer  timeout (ms)
    network.slicer      average_size, size_variation (bytes), delay (µs)
    network.limit_data  bytes                            network.slow_close  delay (ms)
    network.down        the link disabled: every connection cut, nothing accepted (a partition)

All take `stream: upstream | downstream | both` (default both) and `toxicity` (0..1, default 1).
"""
from __future__ import annotations

from urllib.parse import urlsplit

import gevent

from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.common.lazy import lazy_module
from chaos_hooks.faults.registry import register
from chaos_hooks.faults.base import Fault

requests = lazy_module("requests")
toxiproxy = lazy_module("toxiproxy")

CALL_TIMEOUT_S = 10.0
STREAMS = {"upstream": ["upstream"], "downstream": ["downstream"], "both": ["upstream", "downstream"]}


def _server(url: str) -> toxiproxy.Toxiproxy:
    """toxiproxy-python keeps its address in class attributes: set them for every call."""
    parts = urlsplit(url)
    server = toxiproxy.Toxiproxy()
    server.update_api_consumer(parts.hostname, parts.port or 8474)
    return server


def _call(url: str, what: str, fn):
    try:
        with gevent.Timeout(CALL_TIMEOUT_S, TargetUnreachable(f"{url}: no answer to {what} within "
                                                              f"{CALL_TIMEOUT_S:g}s")):
            return fn(_server(url))
    except requests.RequestException as err:
        raise TargetUnreachable(f"{url}: {what}: {type(err).__name__}") from None


def _proxy(server, name: str):
    proxy = server.get_proxy(name)
    if proxy is None:
        api = toxiproxy.api.APIConsumer  # the address _server set
        raise TargetUnreachable(f"{api.host}:{api.port} has no proxy {name!r}")
    return proxy


class _LinkFault(Fault):
    toxic = ""
    params = {"stream": "choice:upstream,downstream,both", "toxicity": "share"}

    def __init__(self, spec, target):
        super().__init__(spec, target)
        target.named(target.links, "link", spec.target, f"faults.{spec.name}.target")
        self.url = target.toxiproxy_url
        self.streams = STREAMS[spec.params.get("stream", "both")]

    def attributes(self) -> dict:
        return {k: v for k, v in self.spec.params.items() if k not in ("stream", "toxicity")}

    def toxic_names(self) -> list[str]:
        return [f"chaos-{self.spec.name}-{stream}" for stream in self.streams]

    def describe(self) -> str:
        attrs = ", ".join(f"{k}={v}" for k, v in self.attributes().items())
        return f"{self.toxic} on link {self.spec.target} ({'/'.join(self.streams)}{', ' + attrs if attrs else ''})"

    def preflight(self) -> None:
        _call(self.url, f"GET proxy {self.spec.target}", lambda s: _proxy(s, self.spec.target))

    def inject(self) -> dict:
        def add(server):
            proxy = _proxy(server, self.spec.target)
            for name, stream in zip(self.toxic_names(), self.streams):
                proxy.add_toxic(name=name, type=self.toxic, stream=stream,
                                toxicity=self.spec.params.get("toxicity", 1.0), attributes=self.attributes())
        _call(self.url, f"add {self.toxic} toxic", add)
        return {"toxics": self.toxic_names()}

    def heal(self) -> None:
        self.heal_from_record(self.heal_record())

    def heal_record(self) -> dict:
        return {"toxiproxy_url": self.url, "proxy": self.spec.target, "toxics": self.toxic_names()}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        def remove(server):
            proxy = server.get_proxy(record["proxy"])
            if proxy is None:
                return  # the link itself is gone: nothing of ours is left on it
            for name in record["toxics"]:
                try:
                    proxy.destroy_toxic(name)
                except toxiproxy.exceptions.NotFound:
                    pass  # already removed: healing is idempotent
            # Checked from outside: the server lists none of them any more.
            left = sorted(set(record["toxics"]) & set(_proxy(server, record["proxy"]).toxics()))
            if left:
                raise TargetUnreachable(f"toxics {', '.join(left)} still on link {record['proxy']} after removal")
        _call(record["toxiproxy_url"], "remove toxics", remove)


def _toxic_fault(toxic: str, params: dict, doc: str):
    cls = type(f"Network_{toxic}", (_LinkFault,), {"action": f"network.{toxic}", "toxic": toxic,
                                                    "params": {**_LinkFault.params, **params}, "__doc__": doc})
    return register(cls)


_toxic_fault("latency", {"latency": "int", "jitter": "int"}, "Adds latency (ms) with jitter (ms).")
_toxic_fault("bandwidth", {"rate": "int"}, "Limits bandwidth to `rate` KB/s.")
_toxic_fault("timeout", {"timeout": "int"}, "Stops all data; closes after `timeout` ms (0: never).")
_toxic_fault("reset_peer", {"timeout": "int"}, "Resets connections (TCP RST) after `timeout` ms.")
_toxic_fault("slicer", {"average_size": "int", "size_variation": "int", "delay": "int"},
             "Slices data into small packets with a delay (µs) between them.")
_toxic_fault("limit_data", {"bytes": "int"}, "Closes connections after `bytes` bytes.")
_toxic_fault("slow_close", {"delay": "int"}, "Delays closing connections by `delay` ms.")


@register
class NetworkDown(_LinkFault):
    """The link disabled: a partition between the system and what is behind the link."""
    action = "network.down"
    params: dict = {}

    def describe(self) -> str:
        return f"link {self.spec.target} down (partition)"

    def inject(self) -> dict:
        _call(self.url, "disable proxy", lambda s: _proxy(s, self.spec.target).disable())
        return {}

    def heal_record(self) -> dict:
        return {"toxiproxy_url": self.url, "proxy": self.spec.target, "enable": True}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        def enable(server):
            proxy = server.get_proxy(record["proxy"])
            if proxy is not None:
                proxy.enable()
                if not _proxy(server, record["proxy"]).enabled:
                    raise TargetUnreachable(f"link {record['proxy']} is still disabled after enabling it")
        _call(record["toxiproxy_url"], "enable proxy", enable)
