"""Benchmark: what recording every operation costs a load generator. The same FastHttpUser POSTs to an nginx
the bench starts, plain (bench/overhead_plain.py) or recording each op through the plugin
(bench/overhead_recorded.py: history.operation + op.from_http, shipped to the master, verdict at the end).

Two setups, each plain and recorded in interleaved rounds (the order alternates per round so both see the same
machine): one process (`locust --headless`, the local runner) and a master with 2 workers. Prints req/s per
round, medians and min-max, the ratio recorded / plain per setup; the last line is the worse setup's median ratio:
`harness_overhead_ratio: X`.

    python bench/harness_overhead.py [--rounds 3] [--seconds 10] [--users 10] [--profile]

--profile also runs a recorded round of each setup under py-spy and prints the top costs of the main process
and a worker.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import shutil
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
from chaos_hooks.common.ports import free_port  # noqa: E402
from chaos_hooks.common.procs import stop_pid  # noqa: E402
from figures import last_line, spread  # noqa: E402
from nginx_server import Nginx  # noqa: E402

LOCUST = os.path.join(os.path.dirname(sys.executable), "locust")
PY_SPY = shutil.which("py-spy", path=os.path.dirname(sys.executable)) or shutil.which("py-spy")
SCENARIO = """name: bench-overhead
load: {{users: {users}, spawn_rate: {users}, run_time: {seconds}s, user_classes: [RecordedUser]}}
invariants: {{bench_recorded: {{}}}}
"""


class Runner:
    def __init__(self, url: str, tmp: str, users: int, seconds: int):
        self.url, self.tmp, self.users, self.seconds = url, tmp, users, seconds
        self.scenario = os.path.join(tmp, "scenario.yaml")
        with open(self.scenario, "w") as f:
            f.write(SCENARIO.format(users=users, seconds=seconds))
        self.profile = os.path.join(tmp, "target.yaml")
        with open(self.profile, "w") as f:
            f.write(f"host: {url}\n")
        self.env = dict(os.environ, LOCUST_CHAOS_HOME=os.path.join(tmp, "home"),
                        PYTHONPATH=os.pathsep.join([HERE, ROOT, os.environ.get("PYTHONPATH", "")]))
        self.count = 0

    def args(self, kind: str) -> list[str]:
        if kind == "plain":
            return ["-f", os.path.join(HERE, "overhead_plain.py")]
        self.count += 1
        return ["-f", os.path.join(HERE, "overhead_recorded.py"), "--chaos-scenario-file", self.scenario,
                "--chaos-target", self.profile, "--chaos-report-dir", os.path.join(self.tmp, f"report{self.count}"),
                "--chaos-quiet"]

    def run(self, kind: str, workers: int, spy: bool = False) -> float:
        """One headless run; its aggregated req/s from Locust's own stats (csv). spy: py-spy samples the main
        process and the first worker, their top costs printed."""
        kind_args = self.args(kind)
        csv_prefix = os.path.join(self.tmp, f"stats{self.count}-{kind}-{workers}")
        common = ["--headless", "-u", str(self.users), "-r", str(self.users), "-t", f"{self.seconds}s",
                  "--host", self.url, "--only-summary", "--loglevel", "WARNING"]
        log = open(os.path.join(self.tmp, "locust.log"), "a")
        spawned = []
        try:
            if workers == 0:
                cmd = [LOCUST, *kind_args, *common, "--csv", csv_prefix]
            else:
                port = free_port()
                cmd = [LOCUST, *kind_args, *common, "--csv", csv_prefix, "--master",
                       "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                       "--expect-workers", str(workers)]
                locustfile = kind_args[1]
                for _ in range(workers):
                    spawned.append(subprocess.Popen(
                        [LOCUST, "-f", locustfile, "--worker", "--master-host", "127.0.0.1", "--master-port",
                         str(port), "--loglevel", "WARNING"], env=self.env, stdout=log, stderr=log))
            main = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log)
            spies = [self.spy(p.pid, name) for p, name in ((main, "main process"), *((w, "worker") for w in spawned[:1]))
                     ] if spy else []
            if main.wait(timeout=self.seconds + 120) != 0:
                raise SystemExit(f"bench: {kind} run exited {main.returncode} (see {self.tmp}/locust.log)")
            for proc, out, name in spies:
                proc.wait(timeout=60)
                top_costs(out, f"{kind} run, {name}")
            for p in spawned:
                p.wait(timeout=30)
        finally:
            for p in spawned:
                if p.poll() is None:
                    stop_pid(p.pid)
            log.close()
        with open(csv_prefix + "_stats.csv") as f:
            row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
        if int(row["Failure Count"]):
            raise SystemExit(f"bench: {row['Failure Count']} failed requests in a {kind} run")
        return float(row["Requests/s"])


    def spy(self, pid: int, name: str):
        out = os.path.join(self.tmp, f"spy-{pid}.txt")
        proc = subprocess.Popen([PY_SPY, "record", "--pid", str(pid), "--duration", str(self.seconds), "--rate", "250",
                                 "--format", "raw", "--nonblocking", "-o", out], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        return proc, out, name


def top_costs(path: str, what: str, top: int = 12) -> None:
    """From py-spy's collapsed stacks: the share of samples in each function (self) and under each chaos_hooks
    or locustfile function (inclusive)."""
    if not os.path.exists(path):
        print(f"\n{what}: no profile (py-spy could not attach)")
        return
    own, under, total = Counter(), Counter(), 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            total += int(count)
            own[frames[-1]] += int(count)
            for frame in {fr for fr in frames if "chaos_hooks" in fr or "overhead_recorded" in fr}:
                under[frame] += int(count)
    print(f"\ntop costs, {what} (py-spy, {total} samples): self")
    for frame, count in own.most_common(top):
        print(f"  {100 * count / total:5.1f} %  {frame}")
    print("  chaos_hooks and the locustfile, inclusive:")
    for frame, count in under.most_common(top):
        print(f"  {100 * count / total:5.1f} %  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of each run (default 10)")
    parser.add_argument("--users", type=int, default=10, help="users per run (default 10)")
    parser.add_argument("--profile", action="store_true", help="also profile one recorded round")
    args = parser.parse_args()
    nginx = Nginx()
    try:
        with tempfile.TemporaryDirectory(prefix="locust-chaos-bench-") as tmp:
            runner = Runner(nginx.url, tmp, args.users, args.seconds)
            setups = {"1 process": 0, "master + 2 workers": 2}
            rps = {(s, k): [] for s in setups for k in ("plain", "recorded")}
            for r in range(args.rounds):
                for setup, workers in setups.items():
                    kinds = ("plain", "recorded") if r % 2 == 0 else ("recorded", "plain")
                    for kind in kinds:
                        rps[(setup, kind)].append(runner.run(kind, workers))
                        print(f"round {r + 1}/{args.rounds} {setup:20} {kind:9} {rps[(setup, kind)][-1]:8.0f} req/s",
                              file=sys.stderr, flush=True)
            print(f"\nplain vs recorded FastHttpUser POSTs to nginx, {args.users} users, {args.rounds} rounds x "
                  f"{args.seconds} s; req/s median (min-max)")
            print(f"{'':22}{'plain':>22}{'recorded':>22}{'ratio':>22}")
            ratios = {}
            for setup in setups:
                plain, rec = rps[(setup, "plain")], rps[(setup, "recorded")]
                if 0 in plain or 0 in rec:  # workers report their stats every 3 s: a shorter run may count none
                    raise SystemExit(f"bench: a {setup} run counted no request in {args.seconds} s; "
                                     "give --seconds 4 or more")
                per_round = [b / a for a, b in zip(plain, rec)]
                ratios[setup] = statistics.median(rec) / statistics.median(plain)
                print(f"{setup:22}{spread(plain):>22}{spread(rec):>22}"
                      f"{ratios[setup]:>8.3f} ({min(per_round):.2f}-{max(per_round):.2f})")
            if args.profile:
                if not PY_SPY:
                    print("\n--profile: py-spy not installed (pip install py-spy)")
                else:
                    runner.run("recorded", 0, spy=True)
                    runner.run("recorded", 2, spy=True)
            last_line("harness_overhead_ratio", min(ratios.values()))
    finally:
        nginx.stop()


if __name__ == "__main__":
    main()
