"""docker-compose.yml stays valid for users (public image names; they cannot be pulled here, the file is still
checked by docker-compose itself), and the compose deployment's target profile covers every shop preset."""
import glob
import os
import subprocess

import yaml

from helpers import ROOT, run_cli

TARGET = "locust_chaos_systems/shop/compose/target.yaml"


def test_compose_file_is_valid_and_runs_the_harness_image():
    out = subprocess.run(["docker-compose", "config"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    assert {"redis", "postgres", "toxiproxy", "shop-api", "shop-worker", "locust-master", "locust-worker"} <= set(services)
    assert services["toxiproxy"]["image"].startswith("ghcr.io/shopify/toxiproxy")
    assert services["redis"]["image"] == "redis:7" and services["postgres"]["image"] == "postgres:15"
    # One image, built once from the Dockerfile (FROM the official Locust image), for the shop and the harness.
    assert all(services[s]["image"] == "locust-chaos:local" for s in ("shop-api", "shop-worker", "locust-master",
                                                                       "locust-worker"))
    assert open(os.path.join(ROOT, "Dockerfile")).readline().startswith("#") and \
        "FROM locustio/locust" in open(os.path.join(ROOT, "Dockerfile")).read()
    assert not any("pip install" in " ".join(services[s].get("command") or []) for s in services)
    master = services["locust-master"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in " ".join(
        v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in master["volumes"])
    assert "--chaos-target" in master["command"] and "locust-worker" not in " ".join(master["command"])
    assert "docker.sock" not in str(services["locust-worker"].get("volumes"))  # workers hold no Docker access
    # The target profile names its compose project by COMPOSE_PROJECT_NAME, which the master is given (.env's).
    assert master["environment"]["COMPOSE_PROJECT_NAME"] == "locust-chaos"
    assert '"${COMPOSE_PROJECT_NAME:-locust-chaos}"' in open(os.path.join(ROOT, TARGET)).read()


def test_every_shop_preset_validates_against_the_compose_target():
    presets = [os.path.basename(p)[:-5] for p in glob.glob(os.path.join(ROOT, "chaos_hooks", "scenarios", "*.yaml"))
               if "system: shop" in open(p).read()]
    assert len(presets) == 12
    for preset in presets:
        code, out = run_cli(["validate", preset, "--target", TARGET, "--offline"],
                            env_extra={"POSTGRES_PASSWORD": "from-the-environment"})
        assert code == 0, f"{preset}: {out}"
