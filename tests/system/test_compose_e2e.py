"""The repo's docker-compose.yml run for real by docker-compose 1.29, as a user runs it, with
tests/compose/override.yml swapping in local images (no registry here): the shop, redis, postgres, the fault proxy,
a Locust master holding the Docker socket and two Locust worker containers. worker-crash (in the shorter window of
tests/system/scenarios/shop-crash.yaml) passes on the clean shop and fails no_data_loss with the loss bug; each
figure is checked against the orders counted in the compose project's own PostgreSQL, the kill against Docker's
own record of the worker container, and `down` must leave nothing of the project behind."""
import os
import subprocess
import sys
import time
import uuid

import pytest

from chaos_hooks.common.ports import free_port
from docker_support import ROOT, VENV, wait_for
from helpers import SHOP_CRASH, SHOP_CRASH_LOST, counted_by, history_records, invariant, kept_before, load_verdict

pytestmark = pytest.mark.slow
FILES = ["-f", os.path.join(ROOT, "docker-compose.yml"), "-f", os.path.join(ROOT, "tests", "compose", "override.yml")]
PROJECT_LABEL = "com.docker.compose.project"


class ComposeShop:
    """The compose project of one test run: a unique project name and free host ports, on this checkout."""

    def __init__(self, client, image: str, reports: str):
        self.client = client
        self.project = f"lce2e{uuid.uuid4().hex[:10]}"
        self.reports = reports
        self.env = dict(os.environ, COMPOSE_PROJECT_NAME=self.project, LC_IMAGE=image, LC_ROOT=ROOT,
                        LC_PATH=f"{VENV}/bin:{os.path.join(sys.base_prefix, 'bin')}:/usr/bin", LC_REPORTS=reports,
                        LC_SCENARIO=SHOP_CRASH, SHOP_BUGS="",
                        SHOP_API_PORT=str(free_port()), TOXIPROXY_PORT=str(free_port()),
                        LOCUST_WEB_PORT=str(free_port()))

    def compose(self, *args: str, timeout: float = 120, **env) -> subprocess.CompletedProcess:
        self.env.update(env)
        return subprocess.run(["docker-compose", *FILES, *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def up_shop(self, bugs: str = "") -> None:
        done = self.compose("up", "-d", "--no-build", "redis", "postgres", "toxiproxy", "shop-api", "shop-worker",
                            SHOP_BUGS=bugs)
        assert done.returncode == 0, done.stderr[-3000:]
        wait_for(lambda: _ready(int(self.env["SHOP_API_PORT"])), 60, "the shop's /ready on its published port")

    def load(self, name: str, scenario: str) -> tuple[int, str]:
        """The documented load command: only the master and workers attached, the master's exit code."""
        done = self.compose("--profile", "load", "up", "--no-build", "--scale", "locust-worker=2",
                            "--exit-code-from", "locust-master", "locust-master", "locust-worker", LC_RUN=name,
                            LC_SCENARIO=scenario)
        return done.returncode, done.stdout + done.stderr

    def container(self, service: str) -> dict:
        (entry,) = self.client.api.containers(all=True, filters={"label": [f"{PROJECT_LABEL}={self.project}",
                                                                           f"com.docker.compose.service={service}"]})
        return self.client.api.inspect_container(entry["Id"])

    def db_url(self) -> str:
        """The compose postgres, where docker-compose itself says its port is published."""
        address = self.compose("port", "postgres", "5432").stdout.strip()
        return f"postgresql://postgres:postgres@127.0.0.1:{address.rsplit(':', 1)[1]}/shop"

    def kept(self, product: str, before: float | None = None) -> set[str]:
        rows = kept_before(self.db_url(), "idempotency_key FROM orders", "product_id = %s", (product,), "created_at",
                           before)
        keys = {k for (k,) in rows}
        assert len(keys) == len(rows), "an order kept twice"
        return keys

    def leftovers(self) -> dict:
        label = {"label": f"{PROJECT_LABEL}={self.project}"}
        return {"containers": self.client.api.containers(all=True, filters=label),
                "networks": self.client.api.networks(filters=label),
                "volumes": (self.client.api.volumes(filters=label) or {}).get("Volumes") or []}

    def down(self) -> subprocess.CompletedProcess:
        return self.compose("--profile", "load", "down", "-v", "--remove-orphans", "-t", "2")


def _ready(port: int) -> bool:
    import http.client
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/ready")
        return conn.getresponse().status == 200
    except OSError:
        return False


def acked(history) -> set[str]:
    return {op["key"] for op in history if op["outcome"] == "ok"}


@pytest.fixture
def shop(docker_engine, harness_image, tmp_path):
    project = ComposeShop(docker_engine, harness_image, str(tmp_path / "reports"))
    os.makedirs(project.reports)
    yield project
    project.down()  # again, should the test have failed before its own `down`


def test_worker_crash_through_docker_compose_passes_clean_and_loses_orders_with_the_bug(docker_engine, shop):
    shop.up_shop()
    worker = shop.container("shop-worker")
    since = time.time()

    code, out = shop.load("clean", SHOP_CRASH)
    assert code == 0, out[-4000:]
    verdict = load_verdict(os.path.join(shop.reports, "clean"))
    assert {i["name"]: i["status"] for i in verdict["invariants"]} == {
        "no_data_loss": "valid", "no_oversell": "valid", "no_duplicates": "valid", "catch_up": "valid"}
    assert verdict["workers"] == 2 and verdict["history_complete"]
    ok = acked(history_records(os.path.join(shop.reports, "clean")))
    kept = shop.kept(verdict["values"]["product"])
    assert len(ok) > 20 and ok <= kept and invariant(verdict, "no_data_loss")["figure"] == len(ok - kept) == 0
    # Docker's own record: the worker container (the same one) died by SIGKILL and was started again.
    after = shop.container("shop-worker")
    assert after["Id"] == worker["Id"] and after["State"]["Running"]
    assert after["State"]["StartedAt"] > worker["State"]["StartedAt"]
    deaths = list(docker_engine.events(since=int(since), until=int(time.time()) + 1, decode=True,
                                       filters={"container": worker["Id"], "event": "die"}))
    assert [d["Actor"]["Attributes"].get("exitCode") for d in deaths] == ["137"], deaths
    (fault,) = verdict["faults"]
    assert fault["error"] is None

    shop.up_shop(bugs="ack-before-commit")  # the shop's services are recreated with the bug switch
    assert "SHOP_BUGS=ack-before-commit" in shop.container("shop-worker")["Config"]["Env"]
    code, out = shop.load("buggy", SHOP_CRASH_LOST)
    assert code == 1, out[-4000:]
    verdict = load_verdict(os.path.join(shop.reports, "buggy"))
    ok = acked(history_records(os.path.join(shop.reports, "buggy")))
    # What was kept when the harness counted: within the 3 s bound after the load, before the restarted writer
    # (it writes 8 s after acknowledging) could add a row.
    lost = ok - shop.kept(verdict["values"]["product"], before=counted_by(verdict))
    loss = invariant(verdict, "no_data_loss")
    assert loss["status"] == "invalid" and loss["figure"] == len(lost) > 0, (loss, len(lost))

    done = shop.down()
    assert done.returncode == 0, done.stderr[-3000:]
    assert shop.leftovers() == {"containers": [], "networks": [], "volumes": []}
