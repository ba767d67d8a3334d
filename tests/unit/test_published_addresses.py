"""Profile addresses from a compose service's published port: the YAML forms parse into references (the field
holds the address on the compose network until a run resolves it), and every wrong form is one located line."""
import textwrap

import pytest

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec import published_addresses
from chaos_hooks.spec.profile import load_profile

COMPOSE = """\
services:
  shop-api: {image: shop}
  redis: {image: "redis:7"}
  postgres: {image: "postgres:15"}
  toxiproxy: {image: toxiproxy}
"""

PROFILE = """\
compose: {project: shop, file: compose.yml}
host: {service: shop-api, port: 8080}
control_host: {service: shop-api, port: 8443, scheme: https, index: 2}
toxiproxy_url: {url: "http://toxiproxy:8474", service: toxiproxy}
datastores:
  db: {url: "postgresql://postgres:${PG_PW}@postgres:5432/shop", service: postgres}
  cache: {url: "redis://redis/0", service: redis, port: 6379}
  plain: redis://127.0.0.1:6379/1
"""


def write(tmp_path, profile: str, compose: str = COMPOSE) -> str:
    (tmp_path / "compose.yml").write_text(compose)
    path = tmp_path / "target.yaml"
    path.write_text(textwrap.dedent(profile))
    return str(path)


def test_each_url_field_takes_a_service_and_port(tmp_path, monkeypatch):
    monkeypatch.setenv("PG_PW", "s3cret")
    profile = load_profile(write(tmp_path, PROFILE))
    refs = {r.field: (r.url, r.service, r.port, r.index) for r in profile.published}
    assert refs == {
        ("host",): ("http://shop-api:8080", "shop-api", 8080, None),
        ("control_host",): ("https://shop-api:8443", "shop-api", 8443, 2),
        ("toxiproxy_url",): ("http://toxiproxy:8474", "toxiproxy", 8474, None),
        ("datastores", "db"): ("postgresql://postgres:s3cret@postgres:5432/shop", "postgres", 5432, None),
        ("datastores", "cache"): ("redis://redis/0", "redis", 6379, None),
    }
    # Until resolved, a field holds the address on the compose network; a plain URL is left as it is.
    assert profile.host == "http://shop-api:8080" and profile.datastores["plain"] == "redis://127.0.0.1:6379/1"
    where = {r.field: r.where for r in profile.published}
    assert where[("datastores", "cache")] == f"{profile.source}:7: datastores.cache"


def test_a_profile_without_references_resolves_without_docker(tmp_path):
    # No Docker client is made: resolve() of a plain profile must not need a daemon.
    profile = load_profile(write(tmp_path, "host: http://127.0.0.1:8080\n"))
    assert published_addresses.resolve(profile, client=object()) is profile and profile.published == []


@pytest.mark.parametrize("bad, line, needle", [
    (PROFILE.replace("compose: {project: shop, file: compose.yml}\n", ""), 1,
     "host.service: an address from a published port needs the profile's compose:"),
    (PROFILE.replace("service: shop-api, port: 8080", "service: shop-apj, port: 8080"), 2,
     "host.service: 'shop-apj' is not a service of"),
    (PROFILE.replace("{service: shop-api, port: 8080}", "{service: shop-api}"), 2,
     "host.port: is required (the service's container port)"),
    (PROFILE.replace("port: 8080}", "port: 70000}"), 2, "host.port"),
    (PROFILE.replace("scheme: https, index: 2", "scheme: https, index: 0"), 3, "control_host.index"),
    (PROFILE.replace("scheme: https", "scheme: ftp"), 3, "control_host.scheme: 'ftp' is not one of http, https"),
    (PROFILE.replace('{url: "http://toxiproxy:8474", service: toxiproxy}',
                     '{url: "http://toxiproxy:8474", service: toxiproxy, scheme: https}'), 4,
     "toxiproxy_url.scheme: give the scheme in url, or scheme without url, not both"),
    (PROFILE.replace('redis://redis/0", service: redis, port: 6379', 'redis://redis/0", service: redis'), 7,
     "datastores.cache.port: is required: 'redis://redis/0' names no port"),
    (PROFILE.replace('{url: "redis://redis/0", service: redis, port: 6379}', "{service: redis, port: 6379}"), 7,
     "datastores.cache.url: is required"),
    (PROFILE.replace('url: "redis://redis/0"', 'url: "http://redis/0"'), 7,
     "datastores.cache.url: 'http://redis/0' is not a"),
    (PROFILE.replace("service: redis, port: 6379", "service: redis, port: 6379, scheme: http"), 7,
     "datastores.cache.scheme: unknown field 'scheme'"),
    (PROFILE.replace("service: redis, port: 6379", "service: redis, port: 6379, host: x"), 7,
     "datastores.cache.host: unknown field 'host'"),
    (PROFILE.replace("{service: shop-api, port: 8080}", "{service: [shop-api], port: 8080}"), 2,
     "host.service: expected a string"),
])
def test_wrong_forms_are_one_located_line(tmp_path, monkeypatch, bad, line, needle):
    monkeypatch.setenv("PG_PW", "x")
    path = write(tmp_path, bad)
    with pytest.raises(ScenarioError) as err:
        load_profile(path)
    message = str(err.value)
    assert needle in message and message.startswith(f"{path}:{line}:"), message
    assert "\n" not in message


def test_the_compose_project_may_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "run-42")
    path = write(tmp_path, "compose: {project: '${COMPOSE_PROJECT_NAME:-shop}', file: compose.yml}\n"
                           "host: {service: shop-api, port: 8080}\n")
    assert load_profile(path).compose["project"] == "run-42"
    monkeypatch.delenv("COMPOSE_PROJECT_NAME")
    assert load_profile(path).compose["project"] == "shop"
