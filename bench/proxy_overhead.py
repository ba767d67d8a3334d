"""Benchmark: what the embedded proxy (no toxics) costs against a direct connection, side by side in one run.

Starts its own redis-server and a standalone `locust-chaos proxy` (both on free loopback ports), then
measures in interleaved rounds (direct and proxied alternate, and which goes first alternates too, so both
see the same machine load):
  - redis-benchmark, 50 clients, PING and SET; and 20 clients, PING and SET (requests/s);
  - sequential round trips (one raw-socket client, PING): p50/p99 latency and the latency the proxy adds.
Figures are medians over rounds, with the min-max range. The last two lines are machine-readable:
  proxy_added_p50_us: X        (proxied p50 round trip minus direct p50 round trip, microseconds)
  proxy_ratio_50_clients: X    (proxied/direct requests/s at 50 clients, mean of the PING and SET ratios)
Usage: python bench/proxy_overhead.py [--requests N] [--rounds R]
"""
import argparse
import csv
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONCURRENT = [(50, "PING"), (50, "SET"), (20, "PING"), (20, "SET")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.02)
    sys.exit(f"proxy_overhead: {what} did not come up within {seconds:.0f} s")


def start_redis(workdir: str):
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    wait_until(lambda: ping_once(port), 10, "redis-server")
    return proc, port


def start_proxy(redis_port: int, workdir: str):
    api_port = free_port()
    cli = shutil.which("locust-chaos", path=os.path.dirname(sys.executable))
    argv = [cli] if cli else [sys.executable, "-m", "chaos_hooks.cli"]
    with open(os.path.join(workdir, "proxy.log"), "w") as log:  # its log lines stay out of the figures
        proc = subprocess.Popen(argv + ["proxy", "--port", str(api_port)], cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{api_port}"
    wait_until(lambda: urllib.request.urlopen(f"{url}/version", timeout=1).status == 200, 15, "the proxy API")
    body = json.dumps({"name": "redis", "upstream": f"127.0.0.1:{redis_port}", "listen": "127.0.0.1:0"}).encode()
    req = urllib.request.Request(f"{url}/proxies", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    listen = json.load(urllib.request.urlopen(req, timeout=5))["listen"]
    return proc, int(listen.rsplit(":", 1)[1])


def ping_once(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16) == b"+PONG\r\n"


def sequential(port: int, n: int) -> list[float]:
    """n PINGs one after the other on one connection; round trips in microseconds."""
    samples = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(n + 20):
            t = time.perf_counter()
            s.sendall(b"PING\r\n")
            got = b""
            while len(got) < 7:
                got += s.recv(16)
            samples.append((time.perf_counter() - t) * 1e6)
    return samples[20:]  # the first ones warm the connection up


def benchmark(port: int, clients: int, n: int) -> dict[str, float]:
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients), "-n", str(n),
                          "-t", "ping,set", "--csv"], capture_output=True, text=True, timeout=600)
    rows = {row["test"]: float(row["rps"]) for row in csv.DictReader(io.StringIO(out.stdout))}
    return {"PING": rows.get("PING_MBULK", float("nan")), "SET": rows.get("SET", float("nan"))}


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spread(values, digits=0) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000,
                        help="requests per redis-benchmark test (default 100000); sequential PINGs are a fifth")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved direct/proxy rounds (default 5)")
    args = parser.parse_args()
    if not shutil.which("redis-benchmark") or not shutil.which("redis-server"):
        sys.exit("proxy_overhead: redis-server and redis-benchmark are needed (Debian: apt-get install redis-server)")

    workdir = tempfile.mkdtemp(prefix="proxy-bench-")
    procs = []
    try:
        redis_proc, direct_port = start_redis(workdir)
        procs.append(redis_proc)
        proxy_proc, proxy_port = start_proxy(direct_port, workdir)
        procs.append(proxy_proc)
        ports = {"direct": direct_port, "proxy": proxy_port}
        rps = {label: {key: [] for key in CONCURRENT} for label in ports}
        rtt = {label: {"p50": [], "p99": [], "all": []} for label in ports}
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
            order = ["direct", "proxy"] if r % 2 == 0 else ["proxy", "direct"]
            for clients in (50, 20):
                for label in order:
                    for test, value in benchmark(ports[label], clients, args.requests).items():
                        rps[label][(clients, test)].append(value)
            for label in order:
                samples = sequential(ports[label], max(args.requests // 5, 50))
                rtt[label]["p50"].append(percentile(samples, 0.5))
                rtt[label]["p99"].append(percentile(samples, 0.99))
                rtt[label]["all"].extend(samples)
        report(args, rps, rtt)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def report(args, rps, rtt):
    print(f"\nembedded proxy, no toxics, vs direct redis-server: {args.rounds} interleaved rounds, "
          f"{args.requests} requests per redis-benchmark test; median (min-max)")
    print(f"{'':26}{'direct':>26}{'proxy':>26}{'ratio':>8}")
    ratios = {}
    for key in CONCURRENT:
        d, p = rps["direct"][key], rps["proxy"][key]
        ratios[key] = statistics.median(p) / statistics.median(d)
        print(f"{f'{key[0]} clients {key[1]} req/s':26}{spread(d):>26}{spread(p):>26}{ratios[key]:>8.2f}")
    for q in ("p50", "p99"):
        d, p = rtt["direct"][q], rtt["proxy"][q]
        ratio = statistics.median(p) / statistics.median(d)
        print(f"{f'sequential {q} (us)':26}{spread(d, 1):>26}{spread(p, 1):>26}{ratio:>8.2f}")
    seq_d = len(rtt["direct"]["all"]) / (sum(rtt["direct"]["all"]) / 1e6)
    seq_p = len(rtt["proxy"]["all"]) / (sum(rtt["proxy"]["all"]) / 1e6)
    print(f"{'sequential req/s':26}{seq_d:>26.0f}{seq_p:>26.0f}{seq_p / seq_d:>8.2f}")
    added = statistics.median(rtt["proxy"]["p50"]) - statistics.median(rtt["direct"]["p50"])
    print(f"proxy_added_p50_us: {added:.1f}")
    print(f"proxy_ratio_50_clients: {(ratios[(50, 'PING')] + ratios[(50, 'SET')]) / 2:.3f}")


if __name__ == "__main__":
    main()
