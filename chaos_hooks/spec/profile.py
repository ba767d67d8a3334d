"""Target profiles: where a system under test is, how to reach its parts and how to read what it kept.

    host: http://127.0.0.1:8080              # what the Locust users load
    host: {service: shop-api, port: 8080}     # or where a compose service publishes a port (any URL field;
                                             # datastores: {url: ..., service: S}; spec/published_addresses.py)
    control_host: http://127.0.0.1:8080      # optional: setup, ready and http reads (default: host)
    ready: {http: GET /ready, expect: 200}    # optional: checked before any load
    datastores: {db: postgresql://..., cache: redis://..., bus: nats://... or amqp://user:pass@host/vhost}
    compose: {project: shop, file: docker-compose.yml}   # optional: the compose project container services are in
    components:                              # what process faults act on: exactly one process or one container
      worker: {pidfile: /run/w.pid, start: [...], env: {...}, cwd: ..., log: ...}
      api: {pid_command: [systemctl, show, -p, MainPID, --value, api]}   # or match: [exact, argv]
      cache: {container: shop-redis-1}       # a container by name, or a compose service (index: N when scaled)
      db: {service: postgres}
    toxiproxy_url: http://127.0.0.1:8474     # network faults act on the links (proxy names) it serves
    links: {cache: {listen: 127.0.0.1:16379, upstream: 127.0.0.1:6379}}
    reads: {persisted: {from: db, sql: ...}, stock_left: {from: cache, redis: [GET, ...]}, backlog: ...}
    setup: [{http: POST /items, json: {...}}, {redis: [SET, ...], from: cache}, {sql: ..., from: db}]
    commands: {drain: {run: [...], heal: [...], timeout: 30s}}   # shell faults: a command and its undo
    secrets: [s3cr3t, ...]                   # masked (***) in every file and screen, as are URL passwords,
                                             # component env values and the argv of a command with secret: true

Every field is checked with file:line:field messages (exit 2). The embedded stack writes a complete profile
of the same shape (plus `owner_pid`/`ledger`, which tie it to the process that owns the stack).
"""
import json
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from chaos_hooks.common import procs
from chaos_hooks.common.home import state_dir
from chaos_hooks.spec.compose_profile import load_compose
from chaos_hooks.spec.published_addresses import PublishedRef, parse_published
from chaos_hooks.targets.container import ContainerTarget
from chaos_hooks.targets.process import Component
from chaos_hooks.datastores.connections import kind_of
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.common.fields import MISSING, Fields
from chaos_hooks.reads import Read, parse_read
from chaos_hooks.reads.http_json_read import split_request
from chaos_hooks.common.safe_yaml import load_file
from chaos_hooks.setup_steps import Step, parse_step

TOP_FIELDS = {"host", "control_host", "ready", "datastores", "components", "toxiproxy_url", "links", "reads",
              "setup", "commands", "kind", "owner_pid", "owner_started", "ledger", "system", "compose", "secrets"}
CONTAINER_FIELDS = {"container", "service", "index"}
COMPONENT_FIELDS = {"pidfile", "start", "env", "cwd", "log", "pid_command", "match", "start_timeout",
                    "stop_signal", "ledger", "die_with_parent", "user"}
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:[0-9]{1,5}$")


@dataclass
class ReadyCheck:
    method: str
    path: str
    expect: int


@dataclass
class Profile:
    host: str
    source: str = "<memory>"
    control_host: str = ""
    ready: ReadyCheck | None = None
    datastores: dict[str, str] = field(default_factory=dict)
    components: dict[str, Component | ContainerTarget] = field(default_factory=dict)
    compose: dict = field(default_factory=dict)  # {project, file}: where `service:` components are found
    published: list[PublishedRef] = field(default_factory=list)  # URL fields resolve() fills from Docker
    toxiproxy_url: str | None = None
    links: dict = field(default_factory=dict)
    reads: dict[str, Read] = field(default_factory=dict)
    setup: list[Step] = field(default_factory=list)
    commands: dict[str, dict] = field(default_factory=dict)  # shell faults: name -> {run, heal, timeout}
    kind: str = "custom"
    system: str | None = None
    owner_pid: int | None = None  # a stack that lives only as long as this process (`locust-chaos run`)
    owner_started: int | None = None
    ledger: str | None = None
    raw: dict = field(default_factory=dict)  # the document as loaded, for saving a copy

    def gone(self) -> bool:
        """True when the process that owned this stack has ended, and the stack with it."""
        return self.owner_pid is not None and not procs.same_process(self.owner_pid, self.owner_started)

    def component(self, name: str, field_name: str) -> Component:
        return self.named(self.components, "target component", name, field_name)

    def named(self, entries: dict, kind: str, name: str, field_name: str):
        """entries[name], or a ScenarioError listing what the profile does have."""
        if name not in entries:
            known = ", ".join(sorted(entries)) or "none"
            raise ScenarioError(f"{field_name}: unknown {kind} {name!r} in {self.source} (known: {known})")
        return entries[name]

    def read(self, role: str) -> Read | None:
        return self.reads.get(role)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(f: Fields, path: tuple, value: str) -> str:
    """${NAME} (or ${NAME:-default}) in a URL or an env value comes from the environment, so secrets need not be
    in the file."""
    def one(match):
        name, default = match.group(1), match.group(2)
        if name not in os.environ and default is not None:
            return default
        if name not in os.environ:
            f.fail(path, f"environment variable {name} is not set (the profile refers to it as ${{{name}}})")
        return os.environ[name]
    return _ENV_REF.sub(one, value)


def _url(f: Fields, m: dict, path: tuple, key: str, schemes: set, default=MISSING) -> str | None:
    value = f.str(m, path, key, default)
    if value is None:
        return None
    value = _expand(f, path + (key,), value)
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        f.fail(path + (key,), f"{value!r} is not a {'/'.join(sorted(schemes))} URL with a host")
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        f.fail(path + (key,), f"{value!r} has an invalid port")
    return value.rstrip("/")


def _ready(f: Fields, value, path: tuple) -> ReadyCheck | None:
    if value is None or value == "none":
        return None
    spec = f.mapping(value, path, {"http", "expect"}, what="{http: GET /ready, expect: 200} or none")
    method, where = split_request(f.str(spec, path, "http"), f, path + ("http",))
    return ReadyCheck(method, where, f.int(spec, path, "expect", 200, low=100, high=599))


def _compose(f: Fields, top: dict) -> dict:
    if "compose" not in top:
        return {}
    spec = f.mapping(top.get("compose"), ("compose",), {"project", "file"}, what="{project: NAME, file: PATH}")
    out = {}
    if "project" in spec:  # ${COMPOSE_PROJECT_NAME}: the profile follows the project it is run with
        out["project"] = _expand(f, ("compose", "project"), f.str(spec, ("compose",), "project"))
    if "file" in spec:
        out["file"] = _file(f, spec, ("compose",), "file")
        if not os.path.isfile(out["file"]):
            f.fail(("compose", "file"), f"{out['file']}: no such compose file")
        out["services"] = sorted(load_compose(out["file"])["services"])  # a file that does not parse: its line
    if not out:
        f.fail(("compose",), "give project: NAME (or file: PATH, whose directory names the project)")
    return out


def _container(f: Fields, name: str, spec: dict, path: tuple, compose: dict) -> ContainerTarget:
    """A container component: {container: NAME} or {service: S, index: N} of the profile's compose project."""
    spec = f.mapping(spec, path, CONTAINER_FIELDS, what="{container: NAME} or {service: S, index: N}")
    if ("container" in spec) == ("service" in spec):
        f.fail(path, "give exactly one of container: NAME or service: S")
    if "service" in spec and not compose:
        f.fail(path + ("service",), "a compose service needs the profile's compose: {project: NAME, file: PATH}")
    clean = {"container": f.str(spec, path, "container")} if "container" in spec else \
        {"service": f.str(spec, path, "service")}
    if "index" in spec:
        clean["index"] = f.int(spec, path, "index", low=1, high=10_000)
    declared = compose.get("services")
    if "service" in clean and declared is not None and clean["service"] not in declared:
        f.fail(path + ("service",), f"{clean['service']!r} is not a service of {compose['file']} "
                                    f"(it has: {', '.join(declared)})")
    try:
        return ContainerTarget(name, clean, {k: v for k, v in compose.items() if k != "services"})
    except ScenarioError as err:
        f.fail(path, str(err))


def _file(f: Fields, spec: dict, path: tuple, key: str) -> str | None:
    """A path in the profile: relative ones are relative to the profile's own directory, as a reader expects."""
    value = f.str(spec, path, key, None)
    if value is None or os.path.isabs(value) or not f.doc.source or not os.path.exists(f.doc.source):
        return value
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(f.doc.source)), value))


def _component(f: Fields, name: str, spec, path: tuple, ledger: str | None) -> Component:
    spec = f.mapping(spec, path, COMPONENT_FIELDS)
    start = f.str_list(spec, path, "start", [])
    comp = Component(
        name=name, pidfile=_file(f, spec, path, "pidfile"), start=start,
        env={k: _expand(f, path + ("env", k), v) for k, v in f.str_map(spec, path, "env").items()},
        cwd=_file(f, spec, path, "cwd"), log=_file(f, spec, path, "log"),
        pid_command=f.str_list(spec, path, "pid_command", None, nonempty=True),
        match=f.str_list(spec, path, "match", None, nonempty=True),
        ledger=f.str(spec, path, "ledger", None) or ledger,
        die_with_parent=f.bool(spec, path, "die_with_parent", False),
        start_timeout=f.duration(spec, path, "start_timeout", 15.0),
        stop_signal=f.str(spec, path, "stop_signal", None, choices={"SIGTERM", "SIGINT", "SIGQUIT"}),
        user=f.str(spec, path, "user", None))
    if not (comp.pidfile or comp.pid_command or comp.match or comp.start):
        f.fail(path, "needs a way to find its process: pidfile, pid_command, match, or a start command "
                     "(then the harness starts it and knows its pid)")
    return comp


def _address(f: Fields, m: dict, path: tuple, key: str, schemes: set, compose: dict, published: list,
             default=MISSING) -> str | None:
    """A URL field: a URL, or {service: S, port: N, ...} whose address comes from a published port; then the
    field holds the URL on the compose network until published_addresses.resolve() fills it."""
    if not isinstance(m.get(key), dict):
        return _url(f, m, path, key, schemes, default)
    ref = parse_published(f, m[key], path + (key,), schemes, compose,
                          lambda spec, p, k: _url(f, spec, p, k, schemes))
    published.append(ref)
    return ref.url


DATASTORE_SCHEMES = {"postgresql", "postgres", "redis", "rediss", "nats", "amqp", "amqps"}


def parse_profile(doc) -> Profile:
    f = Fields(doc)
    top = f.mapping(doc.data, (), TOP_FIELDS, what="a target profile (a mapping with host, datastores, ...)")
    compose = _compose(f, top)
    published: list[PublishedRef] = []
    host = _address(f, top, (), "host", {"http", "https"}, compose, published)
    control = _address(f, top, (), "control_host", {"http", "https"}, compose, published, host)
    datastores = {}
    for name, url in f.mapping(top.get("datastores"), ("datastores",), what="a mapping of name: URL").items():
        p = ("datastores", name)
        if not _NAME.match(name):
            f.fail(p, "a datastore name is letters, digits, _ . -")
        datastores[name] = _address(f, {name: url}, ("datastores",), name, DATASTORE_SCHEMES, compose, published)
        if kind_of(datastores[name]) is None:
            f.fail(p, "unsupported datastore")
    owner_pid = f.int(top, (), "owner_pid", None, low=1, high=2 ** 31)
    # Copies the harness starts of a user's components are recorded too: a heal never starts a second one.
    ledger = f.str(top, (), "ledger", None) or os.path.join(state_dir(), "started.jsonl")
    components = {}
    for name, spec in f.mapping(top.get("components"), ("components",), what="a mapping of name: {...}").items():
        if not _NAME.match(name):
            f.fail(("components", name), "a component name is letters, digits, _ . -")
        if isinstance(spec, dict) and CONTAINER_FIELDS & set(spec):
            components[name] = _container(f, name, spec, ("components", name), compose)
        else:
            components[name] = _component(f, name, spec, ("components", name), ledger)
    links = {}
    for name, spec in f.mapping(top.get("links"), ("links",), what="a mapping of proxy name: {listen, upstream}"
                                ).items():
        p = ("links", name)
        spec = f.mapping(spec, p, {"listen", "upstream"})
        for key in ("listen", "upstream"):
            if not _HOST_PORT.match(f.str(spec, p, key)):
                f.fail(p + (key,), f"expected host:port, got {spec[key]!r}")
        links[name] = {"listen": spec["listen"], "upstream": spec["upstream"]}
    toxiproxy = _address(f, top, (), "toxiproxy_url", {"http", "https"}, compose, published, None)
    if links and not toxiproxy:
        f.fail(("links",), "links are proxies on a Toxiproxy-compatible server: set toxiproxy_url too")
    reads = {}
    for role, spec in f.mapping(top.get("reads"), ("reads",), what="a mapping of role: read").items():
        if not _NAME.match(role):
            f.fail(("reads", role), "a read role is letters, digits, _ . -")
        reads[role] = parse_read(role, spec, f, ("reads", role), datastores)
    commands = {}
    for name, spec in f.mapping(top.get("commands"), ("commands",), what="a mapping of name: {run, heal}").items():
        p = ("commands", name)
        spec = f.mapping(spec, p, {"run", "heal", "timeout", "secret"})
        f.bool(spec, p, "secret", False)  # its argv is masked everywhere (common/secrets.py)
        commands[name] = {"run": f.str_list(spec, p, "run", nonempty=True),
                          "heal": f.str_list(spec, p, "heal", []), "timeout": f.duration(spec, p, "timeout", 30.0)}
    f.str_list(top, (), "secrets", [])  # literal strings masked everywhere (common/secrets.py)
    steps = [parse_step(spec, f, ("setup", i), datastores)
             for i, spec in enumerate(f.sequence(top.get("setup"), ("setup",), "a list of setup steps"))]
    return Profile(host=host, source=doc.source, control_host=control, ready=_ready(f, top.get("ready"), ("ready",)),
                   datastores=datastores, components=components, toxiproxy_url=toxiproxy, links=links, reads=reads,
                   setup=steps, commands=commands, compose=compose, published=published,
                   kind=f.str(top, (), "kind", "custom", choices={"custom", "embedded"}),
                   system=f.str(top, (), "system", None), owner_pid=owner_pid,
                   owner_started=f.int(top, (), "owner_started", None), ledger=ledger, raw=doc.data)


def load_profile(path: str) -> Profile:
    if not os.path.exists(path):
        raise ScenarioError(f"{path}: target profile not found (write one — `locust-chaos init` — or start the "
                            f"embedded stack with `locust-chaos stack up`)")
    return parse_profile(load_file(path))


def save_profile(data: dict, path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def default_profile_path() -> str:
    """Where `locust-chaos stack up` leaves its profile; LOCUST_CHAOS_TARGET overrides."""
    return os.environ.get("LOCUST_CHAOS_TARGET") or os.path.join(state_dir(), "stack", "target.json")


