"""`http: "POST /path"` with an optional `json:` body; `expect:` a status (default: any 2xx);
`save: {name: path.in.answer}` keeps parts of the JSON answer as run values."""
import json

from chaos_hooks.reads.declared import walk_json
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.common.http_json import http_json
from chaos_hooks.reads.http_json_read import split_request, url_for
from chaos_hooks.common.templates import names_in, render
from chaos_hooks.setup_steps.registry import register
from chaos_hooks.setup_steps.base import SetupFailed, Step


@register
class HttpStep(Step):
    kind = "http"
    extra_fields = {"json", "expect", "save"}

    def parse(self, spec, f, path):
        self.method, self.where = split_request(f.str(spec, path, "http"), f, path + ("http",))
        self.body = spec.get("json")
        self.expect = f.int(spec, path, "expect", None, low=100, high=599)
        self.save = f.str_map(spec, path, "save")

    def placeholders(self):
        return names_in(self.where) | names_in(self.body)

    def saves(self):
        return set(self.save)

    def describe(self):
        return f"{self.method} {self.where}"

    def run(self, ctx):
        url = url_for(ctx.control_host, render(self.where, ctx.values))
        body = render(self.body, ctx.values)
        try:
            status, answer = http_json(self.method, url, body, timeout=10)
        except TargetUnreachable as err:
            raise SetupFailed(str(err)) from None
        ok = status == self.expect if self.expect is not None else 200 <= status < 300
        if not ok:
            raise SetupFailed(f"{self.method} {url} answered {status} "
                              f"(expected {self.expect or '2xx'}): {json.dumps(answer)[:200]}")
        saved = {}
        for name, json_path in self.save.items():
            try:
                saved[name] = walk_json(answer, json_path)
            except LookupError:
                raise SetupFailed(f"{self.method} {url}: the answer has nothing at {json_path!r} "
                                  f"to save as {name!r}") from None
        return saved
