"""Profile addresses taken from a compose service's published port instead of written out. Any URL field of a
target profile (host, control_host, toxiproxy_url, a datastore) may be a mapping:

    host: {service: shop-api, port: 8080}                 # http://<where 8080 of shop-api is published>
    control_host: {service: shop-api, port: 8443, scheme: https, index: 2}
    datastores:
      db: {url: "postgresql://postgres:${POSTGRES_PASSWORD}@postgres:5432/shop", service: postgres}
      cache: {url: "redis://redis/0", service: redis, port: 6379}

`url` is the address as seen on the compose network (service names as hosts; http fields may leave it out);
its host:port is replaced by where `port` (the container port, default the URL's own port) of the service's
container is published on the Docker host. The project is the profile's `compose:`. Parsing checks the shape
and, when compose.file is given, that the service is declared there; the address itself is looked up only when
a run (or an online validate) starts: resolve(profile) asks the Docker API then. A service that is not running,
or a daemon that does not answer, is exit 3; a port it does not publish or a scaled service without index is a
located exit 2.
"""
from dataclasses import dataclass
from urllib.parse import urlsplit

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.common.fields import Fields
from chaos_hooks.targets.compose_ports import published_url

FIELDS = {"url", "service", "port", "index", "scheme"}


@dataclass
class PublishedRef:
    """One URL field whose host:port comes from a published port; `where` is its file:line for errors."""
    field: tuple            # ("host",) or ("datastores", "db")
    where: str
    url: str                # the URL on the compose network (what the field holds until resolved)
    service: str
    port: int
    index: int | None = None


def parse_published(f: Fields, value: dict, path: tuple, schemes: set, compose: dict, check_url) -> PublishedRef:
    """A {url, service, port, index, scheme} mapping of a URL field. check_url(mapping, path, key) validates and
    expands the url the way a plain field's URL is (schemes, ${ENV})."""
    http = bool(schemes & {"http", "https"})
    what = ("{service: S, port: N} (optional index: N, scheme: https, url: the address on the compose network)"
            if http else "{url: URL, service: S} (optional port: N, index: N)")
    spec = f.mapping(value, path, FIELDS if http else FIELDS - {"scheme"}, what=what)
    if not compose:
        f.fail(path + ("service",), "an address from a published port needs the profile's "
                                    "compose: {project: NAME, file: PATH}")
    service = f.str(spec, path, "service")
    declared = compose.get("services")
    if declared is not None and service not in declared:
        f.fail(path + ("service",), f"{service!r} is not a service of {compose['file']} "
                                    f"(it has: {', '.join(declared)})")
    port = f.int(spec, path, "port", None, low=1, high=65535)
    index = f.int(spec, path, "index", None, low=1, high=10_000)
    if "url" in spec:
        if "scheme" in spec:
            f.fail(path + ("scheme",), "give the scheme in url, or scheme without url, not both")
        url = check_url(spec, path, "url")
    elif http:
        if port is None:
            f.fail(path + ("port",), "is required (the service's container port)")
        url = f"{f.str(spec, path, 'scheme', 'http', choices={'http', 'https'})}://{service}:{port}"
    else:
        f.fail(path + ("url",), f"is required (a {'/'.join(sorted(schemes))} URL as seen on the compose network; "
                                f"its host:port is replaced by the published address)")
    if port is None:
        port = urlsplit(url).port
        if port is None:
            f.fail(path + ("port",), f"is required: {url!r} names no port (give the service's container port)")
    return PublishedRef(field=path, where=f"{f.where(path)}: {'.'.join(str(p) for p in path)}", url=url,
                        service=service, port=port, index=index)


def resolve(profile, client=None):
    """Fills every published-port field of the profile with the address Docker publishes now; returns the
    profile. Idempotent (a resolved profile has no refs left)."""
    if not profile.published:
        return profile
    from chaos_hooks.targets.container import connect
    client = client or connect()
    compose = {k: v for k, v in profile.compose.items() if k != "services"}
    for ref in list(profile.published):
        try:
            url = published_url(compose, ref.url, ref.service, ref.port, index=ref.index, client=client)
        except ScenarioError as err:  # exit 3 errors (not running, daemon gone) pass as they are
            raise ScenarioError(f"{ref.where}.service: {err}") from None
        _set(profile, ref.field, url)
    profile.published = []
    return profile


def _set(profile, field: tuple, url: str) -> None:
    if field[0] == "datastores":
        profile.datastores[field[1]] = url
        return
    old_host = profile.host
    setattr(profile, field[0], url.rstrip("/"))
    if field[0] == "host" and profile.control_host == old_host and not _names(profile, "control_host"):
        profile.control_host = profile.host  # control_host defaults to host


def _names(profile, name: str) -> bool:
    return isinstance(profile.raw, dict) and name in profile.raw
