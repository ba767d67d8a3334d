"""Every fault preset passes on the correct reference system, checked from outside: what the system kept (SQL,
Redis) against what clients were told, and what the fault did (a pid that changed or did not, a link left
clean). The shop's links live on a standalone Toxiproxy-compatible server (TOXIPROXY_URL), so the network
presets run unchanged against a separate Toxiproxy API."""
import os
import subprocess
from collections import defaultdict

import pytest
import redis
import requests

from chaos_hooks.control.journal import Journal
from chaos_hooks.common.ports import free_port
from chaos_hooks.common.procs import stop_pid
from chaos_hooks.common.home import state_dir
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.stack.embedded import EmbeddedStack
from chaos_hooks.spec.reference_systems import load_system
from helpers import CLI, chaos_run, invariant, redis_get, run_cli, sql, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def toxiproxy():
    port = free_port()
    proc = subprocess.Popen([CLI, "proxy", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(url), 15, "the standalone proxy")
    yield url
    stop_pid(proc.pid)


def _answers(url) -> bool:
    try:
        return requests.get(f"{url}/version", timeout=1).ok
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def shop(toxiproxy):
    os.environ["TOXIPROXY_URL"] = toxiproxy
    try:
        stack = EmbeddedStack(load_system("shop"), die_with_parent=True, progress=lambda *_: None)
        stack.up()
    finally:
        del os.environ["TOXIPROXY_URL"]
    yield stack
    stack.down()


@pytest.fixture(scope="module")
def pipeline():
    stack = EmbeddedStack(load_system("eventpipe"), die_with_parent=True, progress=lambda *_: None)
    stack.up()
    yield stack
    stack.down()


def pid_of(stack, component: str) -> int:
    return load_profile(stack.profile_path).components[component].running_pid()


def assert_shop_kept_what_it_acknowledged(stack, verdict, history):
    product, stock = verdict["values"]["product"], verdict["values"]["stock"]
    rows = dict(sql(stack.datastores["db"], "SELECT idempotency_key, order_id FROM orders WHERE product_id = %s",
                    (product,)))
    count = sql(stack.datastores["db"], "SELECT count(*) FROM orders WHERE product_id = %s", (product,))[0][0]
    ids = defaultdict(set)
    for op in history:
        if op["outcome"] == "ok":
            ids[op["key"]].add(op["id"])
    assert ids and all(len(v) == 1 and rows.get(k) in v for k, v in ids.items())  # kept, with the id told
    assert count == len(rows)  # once
    assert redis_get(stack.datastores["cache"], f"stock:{product}") + count == stock


def run_preset(stack, tmp_path, name, *args):
    code, out, verdict, history = chaos_run(stack, tmp_path, name, *args, name=name)
    assert code == 0, out[-4000:]
    assert all(i["status"] == "valid" for i in verdict["invariants"]), verdict["invariants"]
    assert not verdict["harness_problems"]
    return verdict, history


def test_worker_pause_continues_the_same_process(shop, tmp_path):
    before = pid_of(shop, "worker")
    verdict, history = run_preset(shop, tmp_path, "worker-pause")
    assert verdict["faults"][0]["facts"]["pid"] == before == pid_of(shop, "worker")  # continued, not restarted
    with open(f"/proc/{before}/stat") as f:
        assert f.read().rsplit(")", 1)[1].split()[0] != "T"
    assert verdict["faults"][0]["facts"]["backlog_at_heal"] > 0
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)


def test_api_kill_restarts_the_api_and_health_returns(shop, tmp_path):
    before = pid_of(shop, "api")
    verdict, history = run_preset(shop, tmp_path, "api-kill")
    assert pid_of(shop, "api") not in (None, before)
    assert invariant(verdict, "probe:health")["status"] == "valid"
    down = next(p for p in verdict["phases"] if p["name"] == "kill-api")
    (fault,) = verdict["faults"]  # refused from the kill until the heal began (its restart is in the phase too)
    refused = [op for op in history if verdict["started_at"] + down["start_s"] + 0.2 <= op["invoke"]
               < verdict["started_at"] + fault["healed_at"] - 0.2]
    assert refused and all(op["outcome"] == "fail" and op["status"] is None for op in refused)
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)


def test_redis_latency_sweep_shows_in_the_phases(shop, tmp_path, toxiproxy):
    verdict, history = run_preset(shop, tmp_path, "redis-latency")
    t0 = verdict["started_at"]
    for fault in verdict["faults"]:
        added = int(fault["name"].split("-")[1].rstrip("ms"))
        inside = [op["complete"] - op["invoke"] for op in history if op["outcome"] == "ok" and
                  t0 + fault["injected_at"] + 0.1 <= op["invoke"] and op["complete"] <= t0 + fault["healed_at"]]
        assert inside and sorted(inside)[len(inside) // 2] >= 2 * added / 1000  # both directions delayed
        phase = next(p for p in verdict["phases"] if p["name"] == fault["name"])
        assert phase["p50_ms"] >= 2 * added
    assert requests.get(f"{toxiproxy}/proxies/cache/toxics", timeout=5).json() == []
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)


def test_redis_outage_flips_readiness(shop, tmp_path):
    r = redis.Redis.from_url(shop.datastores["cache"])
    before = r.info("server")["process_id"]
    verdict, history = run_preset(shop, tmp_path, "redis-outage")
    assert r.info("server")["process_id"] != before
    ready = invariant(verdict, "probe:ready")
    assert ready["status"] == "valid" and "during redis-down: = 503" in ready["summary"]
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)


def test_network_partition_on_an_external_toxiproxy(shop, tmp_path, toxiproxy):
    verdict, history = run_preset(shop, tmp_path, "network-partition")
    assert requests.get(f"{toxiproxy}/proxies/cache", timeout=5).json()["enabled"] is True
    cut = next(p for p in verdict["phases"] if p["name"] == "cut-redis-link")
    assert cut["ok_share"] < 0.2 and invariant(verdict, "probe:ready")["status"] == "valid"
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)


def test_db_outage_and_blip_and_latency(shop, tmp_path, toxiproxy):
    def started():
        return sql(shop.datastores["db"], "SELECT pg_postmaster_start_time()")[0][0]
    before = started()
    verdict, history = run_preset(shop, tmp_path, "db-outage")
    assert started() > before and verdict["faults"][0]["facts"]["backlog_at_heal"] > 0
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)
    verdict, history = run_preset(shop, tmp_path, "db-blip")
    assert [f["name"] for f in verdict["faults"]] == ["blip#1", "blip#2", "blip#3"]
    assert all(f["facts"]["sessions_terminated"] >= 1 for f in verdict["faults"])
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)
    verdict, history = run_preset(shop, tmp_path, "db-latency")
    assert requests.get(f"{toxiproxy}/proxies/db/toxics", timeout=5).json() == []
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)


def test_rate_spike_keeps_one_order_per_key(shop, tmp_path):
    verdict, history = run_preset(shop, tmp_path, "rate-spike")
    assert invariant(verdict, "guard:unanswered")["status"] == "valid"
    assert len(history) > 1000
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)


def test_random_nemesis_is_the_schedule_its_seed_says(shop, tmp_path, home):
    verdict, history = run_preset(shop, tmp_path, "random-nemesis")
    assert verdict["nemesis_seed"] == 29
    shown = run_cli(["show", "random-nemesis"], home)[1]
    planned = [line.split()[1] for line in shown.splitlines() if line.strip().startswith("+")]
    assert [f["name"] for f in verdict["faults"]] == planned and len(planned) >= 5
    assert len({f["action"] for f in verdict["faults"]}) >= 4
    assert_shop_kept_what_it_acknowledged(shop, verdict, history)


def test_broker_outage_restarts_the_jetstream_server(pipeline, tmp_path):
    before = pid_of(pipeline, "bus")
    verdict, history = run_preset(pipeline, tmp_path, "broker-outage")
    assert pid_of(pipeline, "bus") not in (None, before)
    rows = set(sql(pipeline.datastores["db"], "SELECT stream_key, seq FROM events WHERE payload->>'run' = %s",
                   (verdict["run_id"],)))
    acked = {(op["key"], op["seq"]) for op in history if op["outcome"] == "ok"}
    assert acked and acked <= rows
    assert any(op["outcome"] == "info" and op["status"] == 503 for op in history)  # publishes while it was down


GUARDED = """\
name: guarded
system: shop
load: {users: 20, spawn_rate: 20, run_time: 20s, user_classes: [OrderUser], wait: [0.1, 0.3]}
values: {product: "guard-{run_id}", stock: 1000}
faults:
  - {name: cut, action: network.down, target: cache, at: 2s, heal_after: 15s}
  - {name: never, action: process.kill, target: worker, at: 12s, heal_after: 2s}
guards:
  - {name: unanswered, error_ratio: 0.6, window: 2s, min_ops: 10}
invariants: {no_data_loss: {}, no_duplicates: {}}
"""


def test_a_tripped_guard_heals_at_once_stops_the_load_and_fails_the_run(shop, tmp_path, home, toxiproxy):
    path = tmp_path / "guarded.yaml"
    path.write_text(GUARDED)
    code, out, verdict, history = chaos_run(shop, tmp_path, str(path))
    assert code == 1, out[-3000:]
    guard = invariant(verdict, "guard:unanswered")
    assert guard["status"] == "invalid" and guard["figure"] > 0.6 and "unanswered share" in guard["summary"]
    cut, never = verdict["faults"]
    tripped_at = float(guard["summary"].split("+")[1].split("s")[0])
    assert 2 < tripped_at < 6 and cut["healed_at"] == pytest.approx(tripped_at, abs=0.5)  # healed at once
    assert never["injected_at"] is None and not verdict["harness_problems"]  # cancelled, not "never fired"
    # The load stopped within 2 s of the trip: no client sent anything later (the history, not the verdict).
    assert max(op["invoke"] for op in history) - verdict["started_at"] <= tripped_at + 2.0
    assert requests.get(f"{toxiproxy}/proxies/cache", timeout=5).json()["enabled"] is True
    assert Journal(os.path.join(state_dir(), "journal.jsonl")).pending() == []
