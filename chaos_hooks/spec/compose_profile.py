"""A starting target profile from a docker compose file (`locust-chaos init --compose FILE`): every service
listed, roles guessed from images (redis, postgres, rabbitmq, nats, toxiproxy) and commented for the user to
confirm. A service that publishes its port is addressed as `{service, port}` (plus `url:` for a datastore): the
harness looks the published port up through the Docker API when a run starts, so nothing is hand-copied; a
service that publishes nothing is named by its service name (the harness inside the compose network). Passwords found in the
file are never copied: the profile refers to them as ${NAME} from the environment."""
import os
import re

import yaml

from chaos_hooks.common.errors import ScenarioError

DATASTORE_IMAGES = {  # image name fragment -> (datastore name, scheme, container port)
    "redis": ("cache", "redis", 6379), "postgres": ("db", "postgresql", 5432),
    "rabbitmq": ("bus", "amqp", 5672), "nats": ("bus", "nats", 4222),
}


# A short-syntax port: [IP:][PUBLISHED:]TARGET[/PROTO]; PUBLISHED may be a range, ${VAR:-default} or left out
# (then Docker picks one): every entry of `ports:` is published somewhere, which the Docker API tells at run time.
_PORT = re.compile(r"^(?:\d+\.\d+\.\d+\.\d+:|\[[^\]]*\]:)?(?:(?:\$\{[^}]*\}|[\d-]*):)?(?P<target>\d+)(?:/\w+)?$")


def _target_ports(service: dict) -> list[int]:
    """The container ports the service publishes on the host."""
    out = []
    for entry in service.get("ports") or []:
        target = str(entry.get("target", "")) if isinstance(entry, dict) else None
        if target is None:
            m = _PORT.match(str(entry).strip())
            target = m["target"] if m else ""
        if target.isdigit():
            out.append(int(target))
    return out


def _published(service: dict, container_port: int) -> bool:
    return container_port in _target_ports(service)


def _url(name: str, service: dict, port: int, url: str) -> str:
    """url (on the compose network, host `name`) as a profile value: {url, service, port} when published."""
    if not _published(service, port):
        return url
    return f'{{url: "{url}", service: {name}, port: {port}}}'


def _http(name: str, service: dict, port: int) -> str:
    return f"{{service: {name}, port: {port}}}" if _published(service, port) else f"http://{name}:{port}"


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def load_compose(path: str) -> dict:
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise ScenarioError(f"{where}: not a compose file: {getattr(err, 'problem', None) or err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict) or not doc["services"]:
        raise ScenarioError(f"{path}:1: services: a compose file needs a `services:` mapping")
    return doc


def _project_name(path: str) -> str:
    """As docker compose names it: COMPOSE_PROJECT_NAME (environment, then the .env beside the file), else the
    file's directory name."""
    name = os.environ.get("COMPOSE_PROJECT_NAME")
    env_file = os.path.join(os.path.dirname(os.path.abspath(path)), ".env")
    if not name and os.path.isfile(env_file):
        for line in open(env_file):
            key, _, value = line.strip().partition("=")
            if key == "COMPOSE_PROJECT_NAME" and value:
                name = value.strip().strip("'\"")
    name = name or os.path.basename(os.path.dirname(os.path.abspath(path)))
    return "".join(c for c in name.lower() if c.isalnum() or c in "-_")


def compose_profile(path: str, project: str | None = None, output: str = "target.yaml") -> str:
    """The text of the profile to be written at output (its compose.file is relative to it, as profile paths are)."""
    services = load_compose(path)["services"]
    project = project or _project_name(path)
    datastores, components, notes, host, toxiproxy = [], [], [], None, None
    taken = set()
    for name, service in services.items():
        service = service or {}
        image = str(service.get("image") or "")
        kind = next((k for k in DATASTORE_IMAGES if k in image.split("/")[-1]), None)
        if image.startswith("locustio/") or name.startswith("locust"):
            continue  # the load generators: not part of the system under test
        if "toxiproxy" in image:
            toxiproxy = _http(name, service, 8474)
            notes.append(f"  # {name}: Toxiproxy ({image}): network faults act on its proxies (links)")
            continue
        if kind:
            role, scheme, port = DATASTORE_IMAGES[kind]
            role = role if role not in taken else f"{role}_{name}"
            taken.add(role)
            env = _env(service)
            if scheme == "postgresql":
                user = env.get("POSTGRES_USER", "postgres")
                password = ":${POSTGRES_PASSWORD}" if "POSTGRES_PASSWORD" in env else ""
                url = f"postgresql://{user}{password}@{name}:{port}/{env.get('POSTGRES_DB', user)}"
            elif scheme == "amqp":
                user = env.get("RABBITMQ_DEFAULT_USER", "guest")
                password = "${RABBITMQ_DEFAULT_PASS}" if "RABBITMQ_DEFAULT_PASS" in env else "guest"
                url = f"amqp://{user}:{password}@{name}:{port}/%2F"
            elif scheme == "redis":
                url = f"redis://{name}:{port}/0"
            else:
                url = f"nats://{name}:{port}"
            datastores.append(f"  {role}: {_url(name, service, port, url)}   # guessed from {image}: confirm")
            components.append(f"  {role}: {{service: {name}}}   # datastore.outage stops or pauses this container")
            continue
        components.append(f"  {name}: {{service: {name}}}   # {image or 'built here'}: rename to the role your "
                          f"scenarios use (worker, api, ...)")
        published = _target_ports(service)
        if host is None and published:
            host = f"{{service: {name}, port: {published[0]}}}"
    lines = [
        f"# Target profile written by `locust-chaos init --compose {path}`: every service of the compose file, roles",
        "# guessed from their images. Confirm each guess, then fill in ready, setup and reads for your system.",
        "# Check it with:  locust-chaos validate SCENARIO --target THIS_FILE",
        f"host: {host or 'http://127.0.0.1:8080'}   # what the Locust users load: confirm",
        "ready: none                                # or {http: GET /health, expect: 200}",
        f"compose: {{project: {project}, file: {os.path.relpath(os.path.abspath(path), os.path.dirname(os.path.abspath(output)))}}}",
        "datastores:" if datastores else "datastores: {}",
        *datastores,
        "components:                                # container components, resolved through compose labels",
        *components,
    ]
    if toxiproxy:
        lines += [f"toxiproxy_url: {toxiproxy}", "links: {}   # the proxies your services go through: "
                  "{name: {listen: ..., upstream: ...}}", *notes]
    lines += ["setup: []", "reads: {}                                   # persisted, stock_left, backlog: see "
              "`locust-chaos init` for examples", ""]
    return "\n".join(lines)
