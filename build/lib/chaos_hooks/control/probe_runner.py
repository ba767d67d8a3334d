"""Probes at run time: one greenlet per probe samples its value every `every` seconds from the start of the
load until verification has seen the system catch up. A value that cannot be read is recorded as None."""
import time

import gevent

from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.common.http_json import http_json
from chaos_hooks.reads import as_number
from chaos_hooks.reads.http_json_read import url_for


class ProbeRunner:
    def __init__(self, probes, profile, ctx):
        self.probes = probes
        self.profile = profile
        self.ctx = ctx
        self.samples: dict[str, list[tuple[float, object]]] = {p.name: [] for p in probes}
        self.errors: dict[str, str] = {}
        self.greenlets: list = []
        self.ended_at: float | None = None

    def start(self) -> "ProbeRunner":
        self.greenlets = [gevent.spawn(self._loop, p) for p in self.probes]
        return self

    def stop(self) -> None:
        gevent.killall(self.greenlets, block=True)
        self.ended_at = self.ended_at or time.time()
        self.ctx.datastores.close()

    def _loop(self, probe) -> None:
        while True:
            started = time.monotonic()
            self.samples[probe.name].append((time.time(), self.value(probe)))
            gevent.sleep(max(probe.every - (time.monotonic() - started), 0.01))

    def value(self, probe):
        try:
            if probe.http is not None:
                method, where = probe.http
                return http_json(method, url_for(self.profile.control_host, where), timeout=min(probe.every * 4, 5))[0]
            value = self.profile.read(probe.read).value(self.ctx)
            try:
                return as_number(value, probe.read)  # Redis answers "17": compare it as the number it is
            except ReadFailed:
                return value.decode(errors="replace") if isinstance(value, bytes) else value
        except (TargetUnreachable, ReadFailed) as err:
            self.errors[probe.name] = str(err)
            return None

    def latest(self, name: str):
        samples = self.samples.get(name)
        return samples[-1] if samples else None
