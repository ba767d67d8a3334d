"""`locust-chaos init --compose FILE`: a profile that loads, addresses published ports as {service, port} (looked
up through the Docker API when a run starts), names unpublished services by name, and never copies a password."""
import yaml

from chaos_hooks.spec.compose_profile import compose_profile
from chaos_hooks.spec.profile import load_profile

COMPOSE = """\
services:
  api:
    image: example/api:1
    ports: ["18080:8080"]
    environment: {DB_PASSWORD: hunter2}
  pg:
    image: postgres:15
    environment: {POSTGRES_PASSWORD: hunter2, POSTGRES_DB: orders}
    ports: ["15432:5432"]
  cache:
    image: redis:7
  proxy:
    image: ghcr.io/shopify/toxiproxy:2.9.0
    ports: [{target: 8474, published: 18474}]
  locust-master:
    image: locustio/locust
"""


def test_the_written_profile_loads_and_uses_published_ports(tmp_path, monkeypatch):
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(COMPOSE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSTGRES_PASSWORD", "from-env")
    text = compose_profile(str(compose), project="demo")
    assert "hunter2" not in text
    data = yaml.safe_load(text)
    assert data["host"] == {"service": "api", "port": 8080}
    assert data["toxiproxy_url"] == {"service": "proxy", "port": 8474}
    assert data["datastores"]["db"] == {"url": "postgresql://postgres:${POSTGRES_PASSWORD}@pg:5432/orders",
                                        "service": "pg", "port": 5432}
    assert data["datastores"]["cache"] == "redis://cache:6379/0"  # publishes nothing: reached by name
    assert data["compose"] == {"project": "demo", "file": "docker-compose.yml"}
    assert set(data["components"]) == {"api", "db", "cache"}
    path = tmp_path / "target.yaml"
    path.write_text(text)
    profile = load_profile(str(path))
    assert profile.components["api"].spec == {"service": "api"} and profile.datastores["cache"] == "redis://cache:6379/0"
    assert sorted((r.field, r.service, r.port) for r in profile.published) == [
        (("datastores", "db"), "pg", 5432), (("host",), "api", 8080), (("toxiproxy_url",), "proxy", 8474)]
