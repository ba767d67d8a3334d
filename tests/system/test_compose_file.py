"""docker-compose.yml stays valid for users (its images cannot be pulled here; the file is still checked)."""
import subprocess

import yaml

from helpers import ROOT, run_cli


def test_compose_file_is_valid():
    out = subprocess.run(["docker-compose", "config"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    assert {"redis", "postgres", "toxiproxy", "shop-api", "shop-worker", "locust"} <= set(services)
    assert services["toxiproxy"]["image"].startswith("ghcr.io/shopify/toxiproxy")
    assert "--appendfsync" in services["redis"]["command"]
    # The compose deployment's target profile is valid and fits the preset it runs.
    code, out = run_cli(["validate", "flash-sale", "--target", "locust_chaos_systems/shop/compose/target.yaml", "--offline"])
    assert code == 0, out
    assert "locust_chaos_systems/shop/compose/target.yaml" in " ".join(services["locust"]["command"])
