"""`http: "GET /path"` — JSON from the system's control host (or an absolute URL), optionally the part at
`path: a.b.0`. As a value, a number; as rows, a list of keys or of {key, id, seq, units} objects."""
from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.reads.declared import walk_json
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.common.http_json import http_json
from chaos_hooks.common.table import Table
from chaos_hooks.common.templates import names_in, render
from chaos_hooks.reads.registry import register
from chaos_hooks.reads.base import Read

METHODS = {"GET", "POST"}


def split_request(text: str, f, p) -> tuple[str, str]:
    """'GET /ready' -> ('GET', '/ready'); a bare path means GET."""
    parts = text.split()
    if len(parts) == 1:
        parts = ["GET", parts[0]]
    if len(parts) != 2 or parts[0].upper() not in METHODS | {"PUT", "PATCH", "DELETE"}:
        f.fail(p, f"expected 'METHOD /path' (e.g. GET /ready), got {text!r}")
    method, where = parts[0].upper(), parts[1]
    if not (where.startswith("/") or where.startswith(("http://", "https://"))):
        f.fail(p, f"{where!r}: give a path starting with / (on the control host) or an http(s):// URL")
    return method, where


def url_for(host: str, where: str) -> str:
    return where if where.startswith(("http://", "https://")) else host.rstrip("/") + where


@register
class HttpJsonRead(Read):
    kind = "http"
    extra_fields = {"path", "expect"}

    def parse(self, spec, f, path):
        self.method, self.where = split_request(f.str(spec, path, "http"), f, path + ("http",))
        self.json_path = f.str(spec, path, "path", "", nonempty=False)
        self.expect = f.int(spec, path, "expect", 200, low=100, high=599)

    def placeholders(self):
        return names_in(self.where)

    def describe(self):
        return f"http {self.method} {self.where}"

    def _json(self, ctx):
        url = url_for(ctx.control_host, render(self.where, ctx.values))
        try:
            status, body = http_json(self.method, url, timeout=10)
        except TargetUnreachable as err:
            raise ReadFailed(str(err), unreachable=True) from None
        if status != self.expect:
            raise ReadFailed(f"{self.method} {url} answered {status}, not {self.expect}")
        try:
            return walk_json(body, self.json_path)
        except LookupError:
            raise ReadFailed(f"{url}: the answer has nothing at {self.json_path}") from None

    def value(self, ctx):
        return self._json(ctx)

    def rows(self, ctx):
        body = self._json(ctx)
        if not isinstance(body, list):
            raise ReadFailed(f"{self.role}: expected a JSON list of rows")
        try:
            return Table.from_records(body, self.source)
        except ValueError as err:
            raise ReadFailed(str(err)) from None
