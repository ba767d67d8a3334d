"""The reference shop on the real embedded stack: API contract, worker recovery, clean teardown."""
import json
import os
import time
import urllib.error
import urllib.request
import uuid

import psycopg
import pytest
import redis
import requests
import toxiproxy

from chaos_hooks.targets.ledger import Ledger
from chaos_hooks.common.procs import is_running
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.stack.embedded import EmbeddedStack
from chaos_hooks.spec.reference_systems import load_system
from helpers import ledger_alive, wait_for

STREAM, GROUP = "orders", "order-writers"  # the shop's own names, known here as a user of the shop would


@pytest.fixture
def stack(system_stack):
    started = system_stack("shop")
    started.target = load_profile(started.profile_path)
    return started


def call(method, url, body=None, key=None, timeout=5):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def persisted(target, product):
    with psycopg.connect(target.datastores["db"]) as conn:
        return conn.execute("SELECT count(*) FROM orders WHERE product_id = %s", (product,)).fetchone()[0]


def test_order_contract(stack):
    host = stack.target.host
    assert call("POST", f"{host}/sale", {"product_id": "p", "quantity": 2})[0] == 201
    status, first = call("POST", f"{host}/orders", {"product_id": "p", "user_id": "u1"}, key="k1")
    assert status == 202 and first["order_id"]
    status, again = call("POST", f"{host}/orders", {"product_id": "p", "user_id": "u1"}, key="k1")
    assert status == 202 and again["order_id"] == first["order_id"]  # a retried key gets the same order
    assert call("POST", f"{host}/orders", {"product_id": "p", "user_id": "u2"}, key="k2")[0] == 202
    status, body = call("POST", f"{host}/orders", {"product_id": "p", "user_id": "u3"}, key="k3")
    assert status == 409 and body["error"] == "sold out"
    assert call("POST", f"{host}/orders", {"product_id": "p", "user_id": "u3"})[0] == 400  # no key
    assert call("POST", f"{host}/orders", {"product_id": "nope", "user_id": "u"}, key="k4")[0] == 404
    wait_for(lambda: call("GET", f"{host}/orders/{first['order_id']}")[0] == 200, 10, "order persisted")
    assert call("GET", f"{host}/orders/{first['order_id']}")[1]["idempotency_key"] == "k1"
    assert persisted(stack.target, "p") == 2


def test_503_and_not_ready_when_redis_is_gone(stack):
    host = stack.target.host
    call("POST", f"{host}/sale", {"product_id": "p", "quantity": 5})
    stack.target.components["cache"].kill()
    status, body = call("POST", f"{host}/orders", {"product_id": "p", "user_id": "u"}, key=uuid.uuid4().hex)
    assert status == 503 and "redis unavailable" in body["error"]
    status, body = call("GET", f"{host}/ready")
    assert status == 503 and "redis" in body["problems"]


def test_not_ready_when_postgres_is_gone(stack):
    stack.target.components["db"].kill()
    status, body = call("GET", f"{stack.target.host}/ready")
    assert status == 503 and "postgres" in body["problems"] and "redis" not in body["problems"]


def test_restarted_worker_claims_entries_a_dead_consumer_left_pending(stack):
    target = stack.target
    worker = target.components["worker"]
    worker.kill()
    r = redis.Redis.from_url(target.datastores["cache"])
    call("POST", f"{target.host}/sale", {"product_id": "p", "quantity": 3})
    for i in range(3):
        assert call("POST", f"{target.host}/orders", {"product_id": "p", "user_id": "u"}, key=f"k{i}")[0] == 202
    # A consumer reads the entries and dies before acknowledging them.
    assert len(r.xreadgroup(GROUP, "dead-consumer", {STREAM: ">"}, count=10)[0][1]) == 3
    assert r.xpending(STREAM, GROUP)["pending"] == 3
    worker.restart()
    wait_for(lambda: persisted(target, "p") == 3, 15, "claimed entries persisted")
    wait_for(lambda: r.xpending(STREAM, GROUP)["pending"] == 0, 15, "claimed entries acknowledged")


def test_teardown_stops_every_process_the_stack_ever_started(home):
    s = EmbeddedStack(load_system("shop"), die_with_parent=False, progress=lambda *_: None)
    s.up()
    ledger = s.ledger.path
    try:
        target = load_profile(s.profile_path)
        target.components["worker"].kill()
        target.components["worker"].restart()  # a restarted component is torn down too
        pids = {name: c.running_pid() for name, c in target.components.items()}
        assert all(pids.values()) and set(pids) == {"cache", "db", "proxy", "worker", "api"}, pids
        assert len(Ledger(ledger).entries()) == 6  # five started, one restarted
    finally:
        stopped = s.down()
    assert [name for name, pid in pids.items() if is_running(pid)] == []
    assert len(stopped) == 5 and ledger_alive(ledger) == []
    assert not os.path.exists(s.dir)


def order_seconds(host, product):
    t = time.perf_counter()
    assert call("POST", f"{host}/orders", {"product_id": product, "user_id": "u"}, key=uuid.uuid4().hex)[0] == 202
    return time.perf_counter() - t


def test_the_shop_reaches_its_datastores_through_the_fault_proxy(stack):
    target = stack.target
    assert set(target.links) == {"cache", "db"} and "proxy" in target.components
    server = toxiproxy.Toxiproxy()
    server.update_api_consumer("127.0.0.1", int(target.toxiproxy_url.rsplit(":", 1)[1]))
    try:
        redis_link = server.get_proxy("cache")
        assert redis_link.upstream == target.datastores["cache"].split("//")[1].split("/")[0]
        call("POST", f"{target.host}/sale", {"product_id": "p", "quantity": 10})
        assert order_seconds(target.host, "p") < 0.15
        redis_link.add_toxic(type="latency", attributes={"latency": 200})
        assert order_seconds(target.host, "p") >= 0.2  # the API's Redis call now crosses the toxic
        redis_link.destroy_toxic("latency_downstream")
        assert order_seconds(target.host, "p") < 0.15
        with redis_link.down():
            status, body = call("POST", f"{target.host}/orders", {"product_id": "p", "user_id": "u"}, key="down")
            assert status == 503 and "redis unavailable" in body["error"]
            assert call("GET", f"{target.host}/ready")[0] == 503
        wait_for(lambda: call("GET", f"{target.host}/ready")[0] == 200, 10, "the shop to be ready again")
    finally:
        server.update_api_consumer("127.0.0.1", 8474)


def test_toxiproxy_url_points_the_stack_at_another_server(proxy_server, monkeypatch, home):
    monkeypatch.setenv("TOXIPROXY_URL", proxy_server)
    s = EmbeddedStack(load_system("shop"), progress=lambda *_: None)
    s.up()
    try:
        target = load_profile(s.profile_path)
        assert target.toxiproxy_url == proxy_server and "proxy" not in target.components
        assert set(requests.get(f"{proxy_server}/proxies", timeout=5).json()) == {"cache", "db"}
        call("POST", f"{target.host}/sale", {"product_id": "p", "quantity": 1})
        assert order_seconds(target.host, "p") < 1
    finally:
        s.down()
    assert requests.get(f"{proxy_server}/proxies", timeout=5).json() == {}  # its proxies removed, server left up


def test_a_restarted_fault_proxy_comes_back_with_its_links(stack):
    target = stack.target
    before = requests.get(f"{target.toxiproxy_url}/proxies", timeout=5).json()
    proxy = target.components["proxy"]
    proxy.kill()
    wait_for(lambda: call("GET", f"{target.host}/ready")[0] == 503, 10, "the shop to notice its links are gone")
    proxy.restart()
    after = requests.get(f"{target.toxiproxy_url}/proxies", timeout=5).json()
    assert {n: p["listen"] for n, p in after.items()} == {n: p["listen"] for n, p in before.items()}
    wait_for(lambda: call("GET", f"{target.host}/ready")[0] == 200, 15, "the shop to be ready again")
