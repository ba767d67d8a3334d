"""The reference shop on the real embedded stack: API contract, worker recovery, clean teardown."""
import json
import time
import urllib.error
import urllib.request
import uuid

import psycopg
import redis
import requests
import toxiproxy

from chaos_hooks.stack import EmbeddedStack
from chaos_hooks.procs import is_running
from helpers import stack_leftovers, wait_for
from shop.settings import GROUP, STREAM


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
    with psycopg.connect(target.database_url) as conn:
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
    stack.target.components["redis"].kill()
    status, body = call("POST", f"{host}/orders", {"product_id": "p", "user_id": "u"}, key=uuid.uuid4().hex)
    assert status == 503 and "redis unavailable" in body["error"]
    status, body = call("GET", f"{host}/ready")
    assert status == 503 and "redis" in body["problems"]


def test_not_ready_when_postgres_is_gone(stack):
    stack.target.components["postgres"].kill()
    status, body = call("GET", f"{stack.target.host}/ready")
    assert status == 503 and "postgres" in body["problems"] and "redis" not in body["problems"]


def test_restarted_worker_claims_entries_a_dead_consumer_left_pending(stack):
    target = stack.target
    worker = target.components["worker"]
    worker.kill()
    r = redis.Redis.from_url(target.redis_url)
    call("POST", f"{target.host}/sale", {"product_id": "p", "quantity": 3})
    for i in range(3):
        assert call("POST", f"{target.host}/orders", {"product_id": "p", "user_id": "u"}, key=f"k{i}")[0] == 202
    # A consumer reads the entries and dies before acknowledging them.
    assert len(r.xreadgroup(GROUP, "dead-consumer", {STREAM: ">"}, count=10)[0][1]) == 3
    assert r.xpending(STREAM, GROUP)["pending"] == 3
    worker.restart()
    wait_for(lambda: persisted(target, "p") == 3, 15, "claimed entries persisted")
    wait_for(lambda: r.xpending(STREAM, GROUP)["pending"] == 0, 15, "claimed entries acknowledged")


def test_teardown_leaves_no_process():
    lines = []
    s = EmbeddedStack(progress=lines.append)
    s.up()
    try:
        s.target.components["worker"].kill()
        s.target.components["worker"].restart()  # a restarted component is torn down too
        pids = {name: c.running_pid() for name, c in s.target.components.items()}
        assert all(pids.values()), pids
        assert len(stack_leftovers("\n".join(lines))) >= 5  # redis, postmaster, proxy, api, worker
    finally:
        s.down()
    assert [name for name, pid in pids.items() if is_running(pid)] == []
    assert stack_leftovers("\n".join(lines)) == []


def order_seconds(host, product):
    t = time.perf_counter()
    assert call("POST", f"{host}/orders", {"product_id": product, "user_id": "u"}, key=uuid.uuid4().hex)[0] == 202
    return time.perf_counter() - t


def test_the_shop_reaches_its_datastores_through_the_fault_proxy(stack):
    target = stack.target
    assert set(target.links) == {"redis", "postgres"} and "proxy" in target.components
    server = toxiproxy.Toxiproxy()
    server.update_api_consumer("127.0.0.1", int(target.toxiproxy_url.rsplit(":", 1)[1]))
    try:
        redis_link = server.get_proxy("redis")
        assert redis_link.upstream == target.redis_url.split("//")[1].split("/")[0]
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


def test_toxiproxy_url_points_the_stack_at_another_server(proxy_server, monkeypatch):
    monkeypatch.setenv("TOXIPROXY_URL", proxy_server)
    s = EmbeddedStack(progress=lambda *_: None)
    s.up()
    try:
        assert s.target.toxiproxy_url == proxy_server and "proxy" not in s.target.components
        assert set(requests.get(f"{proxy_server}/proxies", timeout=5).json()) == {"redis", "postgres"}
        call("POST", f"{s.target.host}/sale", {"product_id": "p", "quantity": 1})
        assert order_seconds(s.target.host, "p") < 1
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
