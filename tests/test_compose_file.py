"""docker-compose.yml stays valid for users (its images cannot be pulled here; the file is still checked)."""
import subprocess

import yaml

from helpers import ROOT


def test_compose_file_is_valid():
    out = subprocess.run(["docker-compose", "config"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    assert {"redis", "postgres", "toxiproxy", "shop-api", "shop-worker", "locust"} <= set(services)
    assert services["toxiproxy"]["image"].startswith("ghcr.io/shopify/toxiproxy")
    assert "--appendfsync" in services["redis"]["command"]
