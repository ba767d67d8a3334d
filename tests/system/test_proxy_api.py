"""The embedded proxy speaks Toxiproxy 2.x's HTTP API: routes, JSON shapes, codes and defaults."""
import toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from proxy_client import Api


def test_proxy_lifecycle_shapes_and_codes(proxy_server, datastores):
    api = Api(proxy_server)
    upstream = datastores["redis_addr"]
    status, created = api.call("POST", "/proxies", {"name": "redis", "upstream": upstream, "listen": "127.0.0.1:0"})
    assert status == 201
    assert set(created) == {"name", "listen", "upstream", "enabled", "toxics"}
    assert created["enabled"] is True and created["toxics"] == [] and created["upstream"] == upstream
    assert created["listen"].startswith("127.0.0.1:") and not created["listen"].endswith(":0")  # port 0 resolved
    assert api.call("POST", "/proxies", {"name": "redis", "upstream": upstream})[0] == 409
    status, err = api.call("POST", "/proxies", {"upstream": upstream})
    assert status == 400 and err == {"error": "missing required field: name", "status": 400}
    assert api.call("POST", "/proxies", {"name": "x"})[1]["error"] == "missing required field: upstream"
    status, err = api.call("GET", "/proxies/nope")
    assert status == 404 and err == {"error": "proxy not found", "status": 404}
    assert api.call("GET", "/proxies")[1] == {"redis": created}
    assert api.call("GET", "/proxies/redis") == (200, created)
    status, updated = api.call("POST", "/proxies/redis", {"enabled": False})
    assert status == 200 and updated["enabled"] is False and updated["listen"] == created["listen"]
    assert api.call("DELETE", "/proxies/redis") == (204, None)
    assert api.call("DELETE", "/proxies/redis")[0] == 404
    assert api.call("GET", "/version")[0] == 200 and api.call("GET", "/version")[1]["version"].startswith("2.")


def test_bad_bodies_are_400(proxy_server):
    import requests
    resp = requests.post(proxy_server + "/proxies", data="{not json", timeout=5)
    assert resp.status_code == 400 and resp.json()["error"].startswith("bad request body")
    resp = requests.get(proxy_server + "/proxies", headers={"User-Agent": "Mozilla/5.0"}, timeout=5)
    assert resp.status_code == 403  # as Toxiproxy: browsers are turned away


def test_toxic_defaults_codes_and_order(proxy_server, datastores):
    api = Api(proxy_server)
    api.proxy("redis", datastores["redis_addr"])
    status, toxic = api.call("POST", "/proxies/redis/toxics", {"type": "latency", "attributes": {"latency": 10}})
    assert status == 200
    assert toxic == {"attributes": {"latency": 10, "jitter": 0}, "name": "latency_downstream", "type": "latency",
                     "stream": "downstream", "toxicity": 1.0}
    assert api.call("POST", "/proxies/redis/toxics", {"type": "latency"})[0] == 409
    status, err = api.call("POST", "/proxies/redis/toxics", {"type": "nonsense"})
    assert (status, err["error"]) == (400, "invalid toxic type")
    status, err = api.call("POST", "/proxies/redis/toxics", {"type": "latency", "stream": "sideways"})
    assert (status, err["error"]) == (400, "stream was invalid, can be either upstream or downstream")
    status, err = api.call("POST", "/proxies/redis/toxics", {"type": "bandwidth", "attributes": {"rate": "fast"}})
    assert status == 400 and "bad request body" in err["error"]
    assert api.call("POST", "/proxies/nope/toxics", {"type": "latency"})[0] == 404
    api.call("POST", "/proxies/redis/toxics", {"type": "bandwidth", "stream": "upstream", "name": "bw",
                                               "toxicity": 0.5, "attributes": {"rate": 100}})
    status, toxics = api.call("GET", "/proxies/redis/toxics")
    assert [t["name"] for t in toxics] == ["bw", "latency_downstream"]  # upstream chain first, as Toxiproxy
    assert toxics[0]["toxicity"] == 0.5
    status, changed = api.call("POST", "/proxies/redis/toxics/latency_downstream", {"attributes": {"jitter": 3}})
    assert status == 200 and changed["attributes"] == {"latency": 10, "jitter": 3}
    assert api.call("GET", "/proxies/redis/toxics/bw")[1]["attributes"] == {"rate": 100}
    assert api.call("GET", "/proxies/redis/toxics/zzz") == (404, {"error": "toxic not found", "status": 404})
    assert api.call("DELETE", "/proxies/redis/toxics/bw") == (204, None)
    assert api.call("DELETE", "/proxies/redis/toxics/bw")[0] == 404
    assert api.call("GET", "/proxies/redis")[1]["toxics"] == [changed]


def test_populate_and_reset(proxy_server, datastores):
    api = Api(proxy_server)
    port = api.proxy("redis", datastores["redis_addr"])
    api.toxic("redis", "latency", latency=5)
    api.call("POST", "/proxies/redis", {"enabled": False})
    assert api.call("POST", "/reset") == (204, None)
    status, redis_proxy = api.call("GET", "/proxies/redis")
    assert redis_proxy["enabled"] is True and redis_proxy["toxics"] == []
    assert redis_proxy["listen"] == f"127.0.0.1:{port}"
    body = [{"name": "redis", "upstream": datastores["redis_addr"], "listen": f"127.0.0.1:{port}"},
            {"name": "pg", "upstream": datastores["pg_addr"], "listen": "127.0.0.1:0"}]
    status, result = api.call("POST", "/populate", body)
    assert status == 201 and [p["name"] for p in result["proxies"]] == ["redis", "pg"]
    assert all(p["enabled"] for p in result["proxies"])
    status, err = api.call("POST", "/populate", [{"name": "a"}])
    assert (status, err["error"]) == (400, "missing required field: upstream at proxy 1")


def test_driven_through_toxiproxy_python(proxy_server, datastores):
    host, port = proxy_server.split("//")[1].split(":")
    server = toxiproxy.Toxiproxy()
    server.update_api_consumer(host, int(port))
    try:
        assert server.running() and server.version()
        proxy = server.create(upstream=datastores["redis_addr"], name="redis")
        assert proxy.enabled is True and proxy.listen.startswith("127.0.0.1:")
        proxy.add_toxic(type="latency", attributes={"latency": 20})
        assert list(proxy.toxics()) == ["latency_downstream"]
        assert proxy.get_toxic("latency_downstream").attributes == {"latency": 20, "jitter": 0}
        try:
            server.create(upstream=datastores["redis_addr"], name="redis")
            raise AssertionError("a second proxy of the same name was accepted")
        except ProxyExists:
            pass
        try:
            proxy.add_toxic(type="bogus")
            raise AssertionError("a bogus toxic was accepted")
        except InvalidToxic:
            pass
        assert proxy.destroy_toxic("latency_downstream") is True
        assert proxy.toxics() == {}
        proxy.disable()
        assert server.get_proxy("redis").enabled is False
        proxy.enable()
        assert server.get_proxy("redis").enabled is True
        assert server.reset() is True
        assert server.destroy(proxy) is True
        try:
            APIConsumer.get("/proxies/redis")
            raise AssertionError("a deleted proxy was found")
        except NotFound:
            pass
    finally:
        server.update_api_consumer("127.0.0.1", 8474)


def test_standalone_proxy_on_a_busy_port_is_one_line_and_exit_3(proxy_server):
    import subprocess

    from helpers import CLI
    port = proxy_server.rsplit(":", 1)[1]
    out = subprocess.run([CLI, "proxy", "--port", port], capture_output=True, text=True, timeout=30)
    assert out.returncode == 3
    assert out.stderr.strip() == f"locust-chaos: error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_standalone_proxy_config_file(tmp_path, datastores):
    import json
    import subprocess

    import requests

    from chaos_hooks.common.ports import free_port

    from chaos_hooks.common.procs import stop_pid
    from helpers import CLI, wait_for
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "redis"}]')
    out = subprocess.run([CLI, "proxy", "--port", str(free_port()), "--config", str(bad)], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2
    assert out.stderr.strip() == f"locust-chaos: error: {bad}: missing required field: upstream at proxy 1"
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"name": "redis", "listen": "127.0.0.1:0", "upstream": datastores["redis_addr"]}]))
    port = free_port()
    proc = subprocess.Popen([CLI, "proxy", "--port", str(port), "--config", str(good)], stdout=subprocess.DEVNULL)
    try:
        def listed():
            try:
                return requests.get(f"http://127.0.0.1:{port}/proxies", timeout=1).json()
            except requests.ConnectionError:
                return None
        proxies = wait_for(listed, 15, "the proxy API")
        assert list(proxies) == ["redis"] and proxies["redis"]["enabled"] is True
    finally:
        stop_pid(proc.pid)
