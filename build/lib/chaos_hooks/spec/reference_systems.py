"""Reference systems: a directory with a `system.yaml` that tells the embedded stack how to run it —

    name: inventory
    description: ...
    default: true                  # the system presets run on when they name none
    locustfile: locustfile.py      # its user classes (relative to the directory)
    profile: profile.yaml          # its target profile without addresses: ready, reads, setup
    host: api                      # the component whose url the users load
    bugs: {env: INVENTORY_BUGS, known: [ack-before-commit, ...]}
    servers: {cache: {kind: redis}, db: {kind: postgresql, database: app}}
    links: [cache, db]             # the system reaches these only through the fault proxy
    components:                    # started in this order; {placeholders} filled by the stack
      worker: {argv: ["{python}", -m, inventory.worker, --pidfile, "{pidfile}"], env: {DB_URL: "{link.db}"}}
      api: {argv: [...], url: "http://127.0.0.1:{port}"}

Systems are found in LOCUST_CHAOS_SYSTEMS (colon-separated directories holding system directories) and beside
the packages installed distributions register under the `locust_chaos.systems` entry point group.
"""
import os
from importlib.metadata import entry_points
from importlib.util import find_spec
from dataclasses import dataclass, field

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.common.fields import Fields
from chaos_hooks.common.safe_yaml import load_file

# The servers an embedded stack can start (stack/servers.py has one starter per name).
SERVER_KINDS = ("redis", "postgresql", "nats")
TOP = {"name", "description", "default", "locustfile", "profile", "host", "bugs", "servers", "links", "components"}


@dataclass
class SystemSpec:
    name: str
    dir: str
    source: str
    description: str = ""
    default: bool = False
    locustfile: str = ""
    profile: str = ""
    host: str = ""
    bugs_env: str | None = None
    known_bugs: list[str] = field(default_factory=list)
    servers: dict[str, dict] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    components: dict[str, dict] = field(default_factory=dict)

    def check_bugs(self, bugs: str) -> list[str]:
        chosen = [b.strip() for b in bugs.split(",") if b.strip()]
        unknown = [b for b in chosen if b not in self.known_bugs]
        if unknown:
            raise ScenarioError(f"--bugs: unknown bug switch {unknown[0]!r} for system {self.name} "
                                f"(known: {', '.join(self.known_bugs) or 'none'})")
        return chosen


def _search_dirs() -> list[str]:
    """LOCUST_CHAOS_SYSTEMS first, then the parent directory of every package registered under the
    `locust_chaos.systems` entry point group (how an installed distribution ships its systems)."""
    extra = [d for d in os.environ.get("LOCUST_CHAOS_SYSTEMS", "").split(":") if d]
    shipped = []
    for ep in entry_points(group="locust_chaos.systems"):
        spec = find_spec(ep.value)
        if spec is not None and spec.submodule_search_locations:
            parent = os.path.dirname(list(spec.submodule_search_locations)[0])
            if parent not in shipped:
                shipped.append(parent)
    return extra + shipped


def find_systems() -> dict[str, str]:
    """name -> path of its system.yaml (the directory name is the system's name)."""
    found = {}
    for base in _search_dirs():
        try:
            entries = sorted(os.listdir(base))
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(base, entry, "system.yaml")
            if entry not in found and os.path.isfile(path):
                found[entry] = path
    return found


def default_system() -> str:
    systems = find_systems()
    defaults = [n for n, p in systems.items() if load_file(p).data.get("default") is True]
    if len(defaults) != 1:
        raise ScenarioError("no default reference system (one system.yaml must say `default: true`); "
                            "name one with `system:` in the scenario")
    return defaults[0]


def load_system(name: str) -> SystemSpec:
    systems = find_systems()
    if name not in systems:
        raise ScenarioError(f"unknown system {name!r} (known: {', '.join(sorted(systems)) or 'none'})")
    return parse_system(systems[name])


def parse_system(path: str) -> SystemSpec:
    doc = load_file(path)
    f = Fields(doc)
    top = f.mapping(doc.data, (), TOP)
    here = os.path.dirname(os.path.abspath(path))
    spec = SystemSpec(name=f.str(top, (), "name"), dir=here, source=path,
                      description=f.str(top, (), "description", "", nonempty=False),
                      default=f.bool(top, (), "default", False),
                      locustfile=os.path.join(here, f.str(top, (), "locustfile")),
                      profile=os.path.join(here, f.str(top, (), "profile")), host=f.str(top, (), "host"))
    bugs = f.mapping(top.get("bugs"), ("bugs",), {"env", "known"})
    spec.bugs_env = f.str(bugs, ("bugs",), "env", None)
    spec.known_bugs = f.str_list(bugs, ("bugs",), "known", [])
    for name, server in f.mapping(top.get("servers"), ("servers",)).items():
        p = ("servers", name)
        server = f.mapping(server, p, {"kind", "database"})
        spec.servers[name] = {"kind": f.str(server, p, "kind", choices=set(SERVER_KINDS)),
                              **({"database": f.str(server, p, "database")} if "database" in server else {})}
    spec.links = f.str_list(top, (), "links", [])
    for name in spec.links:
        if name not in spec.servers:
            f.fail(("links",), f"{name!r} is not one of the servers ({', '.join(spec.servers)})")
    for name, comp in f.mapping(top.get("components"), ("components",)).items():
        p = ("components", name)
        comp = f.mapping(comp, p, {"argv", "env", "url"})
        spec.components[name] = {"argv": f.str_list(comp, p, "argv", nonempty=True), "env": f.str_map(comp, p, "env"),
                                 "url": f.str(comp, p, "url", None)}
    if spec.host not in spec.components or not spec.components[spec.host]["url"]:
        f.fail(("host",), f"{spec.host!r} must be a component with a url")
    for what in (spec.locustfile, spec.profile):
        if not os.path.isfile(what):
            f.fail((), f"{what} not found")
    return spec
