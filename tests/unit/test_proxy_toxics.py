"""Toxics act on real Redis and PostgreSQL traffic the way Toxiproxy's do, on connections already open."""
import socket
import statistics
import time

import psycopg
import pytest
import redis

from proxy_client import Api


def rtt_ms(client, n=15) -> list[float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - t) * 1000)
    return samples


@pytest.fixture
def redis_through(proxy_server, datastores):
    api = Api(proxy_server)
    port = api.proxy("redis", datastores["redis_addr"])
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, retry=None)
    yield api, port, client
    client.close()


def test_latency_on_an_open_connection_and_its_removal(redis_through):
    api, _, client = redis_through
    conn_id = client.client_id()
    base = statistics.median(rtt_ms(client))
    name = api.toxic("redis", "latency", latency=100)
    added = statistics.median(rtt_ms(client)) - base
    assert 85 <= added <= 115, f"latency 100 ms added {added:.1f} ms"
    api.remove("redis", name)
    after = statistics.median(rtt_ms(client))
    assert after < base + 15, f"removing the toxic left {after:.1f} ms (base {base:.1f})"
    assert client.client_id() == conn_id  # the same connection all along: nothing was dropped


def test_jitter_spreads_within_its_bound(redis_through):
    api, _, client = redis_through
    base = statistics.median(rtt_ms(client))
    api.toxic("redis", "latency", latency=100, jitter=40)
    added = [s - base for s in rtt_ms(client, 30)]
    assert all(55 <= a <= 155 for a in added), added
    assert max(added) - min(added) > 25, "jitter did not spread the delays"


def test_bandwidth_caps_throughput_within_10_percent(redis_through, datastores):
    api, _, client = redis_through
    direct = redis.Redis.from_url(datastores["redis_url"])
    direct.set("big", b"x" * 3_000_000)
    api.toxic("redis", "bandwidth", rate=1000)  # KB/s
    t = time.perf_counter()
    assert len(client.get("big")) == 3_000_000
    rate = 3_000_000 / (time.perf_counter() - t) / 1000
    assert 900 <= rate <= 1100, f"bandwidth 1000 KB/s measured {rate:.0f} KB/s"


def test_timeout_closes_after_its_timeout(redis_through):
    api, _, client = redis_through
    client.ping()
    api.toxic("redis", "timeout", timeout=300)
    t = time.perf_counter()
    with pytest.raises(redis.ConnectionError, match="Connection closed by server"):
        client.ping()
    assert 0.25 <= time.perf_counter() - t <= 1.5


def test_timeout_zero_holds_the_client_until_removed(redis_through):
    api, port, _ = redis_through
    held = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5, retry=None)
    held.ping()
    name = api.toxic("redis", "timeout", timeout=0)
    with pytest.raises(redis.TimeoutError):
        held.ping()
    api.remove("redis", name)
    assert redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).ping()


def test_reset_peer_gives_connection_reset(redis_through):
    api, _, client = redis_through
    client.ping()
    api.toxic("redis", "reset_peer", timeout=0)
    with pytest.raises(redis.ConnectionError, match="Connection reset by peer"):
        client.ping()


def test_limit_data_closes_after_the_limit(redis_through, datastores):
    api, port, _ = redis_through
    redis.Redis.from_url(datastores["redis_url"]).set("v", b"y" * 100)
    api.toxic("redis", "limit_data", bytes=20)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"*2\r\n$3\r\nGET\r\n$1\r\nv\r\n")
        received = b""
        while chunk := s.recv(4096):
            received += chunk
    assert received == b"$100\r\n" + b"y" * 14  # exactly 20 bytes, then the connection closes


def test_slow_close_delays_the_close(redis_through):
    api, port, _ = redis_through
    api.toxic("redis", "slow_close", delay=400)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"QUIT\r\n")  # Redis answers +OK and closes its side
        t = time.perf_counter()
        assert s.recv(100) == b"+OK\r\n"
        assert s.recv(100) == b""
        assert 0.35 <= time.perf_counter() - t <= 1.5


def test_slicer_delivers_everything_in_slices(redis_through, datastores):
    api, _, client = redis_through
    redis.Redis.from_url(datastores["redis_url"]).set("s", b"z" * 5000)
    api.toxic("redis", "slicer", average_size=100, size_variation=50, delay=200)
    t = time.perf_counter()
    assert client.get("s") == b"z" * 5000
    assert time.perf_counter() - t >= 50 * 0.0002 * 0.8  # ~50 slices, 200 us apart


def test_disabled_proxy_drops_connections_and_refuses_new_ones(proxy_server, datastores):
    api = Api(proxy_server)
    port = api.proxy("pg", datastores["pg_addr"])
    dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    conn = psycopg.connect(dsn, connect_timeout=3)
    assert conn.execute("SELECT 1").fetchone() == (1,)
    assert api.call("POST", "/proxies/pg", {"enabled": False})[1]["enabled"] is False
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError, match="Connection refused"):
        psycopg.connect(dsn, connect_timeout=3)
    api.call("POST", "/proxies/pg", {"enabled": True})
    with psycopg.connect(dsn, connect_timeout=3) as again:
        assert again.execute("SELECT 2").fetchone() == (2,)


def test_upstream_toxic_and_partial_toxicity_on_postgres(proxy_server, datastores):
    api = Api(proxy_server)
    port = api.proxy("pg", datastores["pg_addr"])
    dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    api.toxic("pg", "latency", stream="upstream", toxicity=0.0, latency=500)  # drawn per connection: never
    with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as conn:  # one round trip per query
        t = time.perf_counter()
        conn.execute("SELECT 1")
        assert time.perf_counter() - t < 0.2
    api.call("POST", "/proxies/pg/toxics/latency_upstream", {"toxicity": 1.0, "attributes": {"latency": 100}})
    with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as conn:  # one round trip per query
        t = time.perf_counter()
        conn.execute("SELECT 1")
        assert 0.085 <= time.perf_counter() - t <= 0.2
