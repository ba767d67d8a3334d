"""Benchmark: what the embedded proxy (no toxics) costs against a direct connection, side by side in one run.

Starts its own redis-server and a standalone `locust-chaos proxy`, then measures, alternating direct
and proxied rounds so both see the same machine load:
  - sequential round trips (redis-py PING): requests/s and p50/p99 latency, and the latency the proxy adds;
  - concurrent throughput with redis-benchmark (PING, 20 clients).
Usage: python bench/proxy_overhead.py [--requests N] [--rounds R]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

import redis
import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from chaos_hooks.common.procs import free_port, stop_pid  # noqa: E402
from chaos_hooks.stack.embedded import EmbeddedStack  # noqa: E402


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def sequential(port, n):
    client = redis.Redis(host="127.0.0.1", port=port)
    client.ping()
    samples = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - t) * 1e6)
    elapsed = time.perf_counter() - start
    client.close()
    return n / elapsed, samples


def benchmark_rps(port, n):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", "ping", "-c", "20",
                          "-n", str(n), "-q"], capture_output=True, text=True, timeout=300).stdout
    values = [float(v) for v in re.findall(r"([\d.]+) requests per second", out)]
    return statistics.mean(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="sequential PINGs per round (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/proxy rounds (default 3)")
    args = parser.parse_args()

    stack = EmbeddedStack(progress=lambda m: print(m, file=sys.stderr))
    api_port = free_port()
    cli = [sys.executable, "-m", "chaos_hooks.cli", "proxy", "--port", str(api_port)]
    proxy = subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        redis_url, _ = stack.start_redis()
        redis_addr = redis_url.split("//")[1].split("/")[0]
        direct_port = int(redis_addr.split(":")[1])
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{api_port}/version", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        listen = requests.post(f"http://127.0.0.1:{api_port}/proxies",
                               json={"name": "redis", "upstream": redis_addr, "listen": "127.0.0.1:0"}).json()["listen"]
        proxy_port = int(listen.rsplit(":", 1)[1])

        seq = {"direct": ([], []), "proxy": ([], [])}
        conc = {"direct": [], "proxy": []}
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
            for label, port in (("direct", direct_port), ("proxy", proxy_port)):
                rps, samples = sequential(port, args.requests)
                seq[label][0].append(rps)
                seq[label][1].extend(samples)
                if shutil.which("redis-benchmark"):
                    conc[label].append(benchmark_rps(port, 20000))

        d_rps, p_rps = statistics.median(seq["direct"][0]), statistics.median(seq["proxy"][0])
        d50, p50 = percentile(seq["direct"][1], 0.5), percentile(seq["proxy"][1], 0.5)
        d99, p99 = percentile(seq["direct"][1], 0.99), percentile(seq["proxy"][1], 0.99)
        print(f"\nembedded proxy, no toxics, vs direct Redis ({args.rounds} rounds x {args.requests} PINGs)")
        print(f"{'':28}{'direct':>12}{'proxy':>12}{'ratio':>10}")
        print(f"{'sequential requests/s':28}{d_rps:>12.0f}{p_rps:>12.0f}{p_rps / d_rps:>10.2f}")
        print(f"{'p50 round trip (us)':28}{d50:>12.0f}{p50:>12.0f}{p50 / d50:>10.2f}")
        print(f"{'p99 round trip (us)':28}{d99:>12.0f}{p99:>12.0f}{p99 / d99:>10.2f}")
        if conc["direct"]:
            dc, pc = statistics.median(conc["direct"]), statistics.median(conc["proxy"])
            print(f"{'20 clients requests/s':28}{dc:>12.0f}{pc:>12.0f}{pc / dc:>10.2f}")
        print(f"added latency: p50 {p50 - d50:.0f} us, p99 {p99 - d99:.0f} us")
    finally:
        stop_pid(proxy.pid)
        stack.down()


if __name__ == "__main__":
    main()
