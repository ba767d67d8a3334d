"""The API stays responsive (< 100 ms) while toxics are added and removed under ~2,000 Redis ops/s
(Toxiproxy's users report hangs and 503s there: its issues #412 and #558)."""
import threading
import time

import redis
import requests

from proxy_client import Api

THREADS, PER_THREAD_RATE = 8, 250  # ~2,000 ops/s in all


def paced_pings(port, stop, counts, errors):
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    interval, next_at = 1.0 / PER_THREAD_RATE, time.perf_counter()
    while not stop.is_set():
        try:
            client.ping()
            counts.append(1)
        except redis.RedisError as err:
            errors.append(repr(err))
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    client.close()


def test_api_answers_within_100ms_while_toxics_change_under_load(proxy_server, datastores):
    api = Api(proxy_server)
    port = api.proxy("redis", datastores["redis_addr"])
    stop, counts, errors = threading.Event(), [], []
    threads = [threading.Thread(target=paced_pings, args=(port, stop, counts, errors)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    session = requests.Session()
    timings = []
    try:
        time.sleep(0.5)  # let the load settle before measuring
        start_count, start = len(counts), time.perf_counter()
        for i in range(30):
            for method, path, body in (
                    ("POST", "/proxies/redis/toxics", {"type": "latency", "name": "lat", "attributes": {"latency": 1}}),
                    ("POST", "/proxies/redis/toxics", {"type": "slicer", "stream": "upstream", "name": "sl",
                                                       "attributes": {"average_size": 8, "delay": 10}}),
                    ("DELETE", "/proxies/redis/toxics/lat", None),
                    ("DELETE", "/proxies/redis/toxics/sl", None)):
                t = time.perf_counter()
                resp = session.request(method, proxy_server + path, json=body, timeout=5)
                timings.append(time.perf_counter() - t)
                assert resp.status_code in (200, 204), resp.text
        rate = (len(counts) - start_count) / (time.perf_counter() - start)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert errors == [], errors[:3]
    assert rate >= 1000, f"load was only {rate:.0f} ops/s"
    print(f"slowest API call {max(timings) * 1000:.1f} ms, load {rate:.0f} ops/s")
    assert max(timings) < 0.1, f"slowest API call {max(timings) * 1000:.1f} ms"
