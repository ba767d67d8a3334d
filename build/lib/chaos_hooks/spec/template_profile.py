"""A reference system's target profile as it will look once its embedded stack runs — addresses stood in by
placeholders — so a scenario can be checked against it in a second, before anything starts."""
from chaos_hooks.spec.profile import parse_profile
from chaos_hooks.common.safe_yaml import Located, load_file

_STAND_IN = {"redis": "redis://127.0.0.1:1/0", "postgresql": "postgresql://127.0.0.1:1/x", "nats": "nats://127.0.0.1:1"}


def template_profile(system):
    doc = load_file(system.profile)
    data = dict(doc.data or {})
    data.setdefault("host", "http://127.0.0.1:1")
    data.setdefault("datastores", {n: _STAND_IN[s["kind"]] for n, s in system.servers.items()})
    names = list(system.servers) + list(system.components) + (["proxy"] if system.links else [])
    data.setdefault("components", {n: {"start": ["true"]} for n in names})
    if system.links:
        data.setdefault("toxiproxy_url", "http://127.0.0.1:1")
        data.setdefault("links", {n: {"listen": "127.0.0.1:1", "upstream": "127.0.0.1:1"} for n in system.links})
    return parse_profile(Located(data, doc.lines, doc.source))
