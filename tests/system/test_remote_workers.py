"""Load generators on other machines: each Locust worker runs in a network namespace of its own (ip netns + veth:
its own network stack, reaching the master and the system only through its link), in a working directory of its
own, with nothing but the locustfile and the master's address — no target profile, no pidfile, no datastore.
The master's history is complete (the acknowledged operations are exactly the orders the system's own database
holds), faults fire only from the master, and a SIGKILLed worker's unshipped operations are unknown, never lost,
with the worker named."""
import os
import signal
import subprocess
import uuid

import pytest
import redis
import requests

from chaos_hooks.common.ports import free_port

from chaos_hooks.common.procs import stop_pid
from helpers import BIN, ROOT, history_records, load_verdict, sql, wait_for

SUBNET = "10.231.{n}.{h}"  # the test's own namespaces only; nothing else is ever addressed
LOCUSTFILE = os.path.join(ROOT, "locustfiles", "shop.py")


def ip(*args, ns=None):
    argv = (["ip", "netns", "exec", ns] if ns else []) + ["ip", *args]
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


@pytest.fixture
def two_hosts():
    """Two namespaces, each linked to this host by a veth pair: lc<id>-N at 10.231.N.2, this side 10.231.N.1."""
    tag = uuid.uuid4().hex[:6]
    made = []
    try:
        for n in (1, 2):
            ns, here, there = f"lc{tag}-{n}", f"lc{tag}h{n}", f"lc{tag}n{n}"
            subprocess.run(["ip", "netns", "add", ns], check=True, timeout=30)
            made.append(ns)
            ip("link", "add", here, "type", "veth", "peer", "name", there)
            ip("link", "set", there, "netns", ns)
            ip("addr", "add", SUBNET.format(n=n, h=1) + "/24", "dev", here)
            ip("link", "set", here, "up")
            ip("addr", "add", SUBNET.format(n=n, h=2) + "/24", "dev", there, ns=ns)
            ip("link", "set", there, "up", ns=ns)
            ip("link", "set", "lo", "up", ns=ns)
            ip("route", "add", "default", "via", SUBNET.format(n=n, h=1), ns=ns)
        yield made
    finally:
        for ns in made:  # the namespace takes its end of the veth pair with it, and the pair goes whole
            subprocess.run(["ip", "netns", "delete", ns], timeout=30)


def forward(stack, port: int) -> None:
    """The shop's API listens on loopback: the stack's own fault proxy opens it on this host's veth address."""
    api = stack.values["api.url"].split("//")[1]
    resp = requests.post(f"{stack.toxiproxy_url}/proxies", json={"name": "api-remote", "listen": f"0.0.0.0:{port}",
                                                                 "upstream": api, "enabled": True}, timeout=5)
    assert resp.status_code == 201, resp.text


def start_worker(ns: str, master_port: int, workdir, log):
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "LOCUST_CHAOS_HOME": str(workdir / "chaos")}
    return subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(BIN, "locust"), "-f", LOCUSTFILE, "--worker",
                             "--master-host", SUBNET.format(n=1, h=1), "--master-port", str(master_port)],
                            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)


def run_master(stack, tmp_path, two_hosts, scenario: str, kill_worker_at: str | None = None):
    api_port, master_port = free_port(), free_port()
    forward(stack, api_port)
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario)
    report = tmp_path / "report"
    env = dict(os.environ, LOCUST_CHAOS_HOME=str(tmp_path / "master-home"))
    master_log = open(tmp_path / "master.log", "w")
    master = subprocess.Popen([os.path.join(BIN, "locust"), "-f", LOCUSTFILE, "--headless", "--master",
                               "--master-bind-host", "0.0.0.0", "--master-bind-port", str(master_port),
                               "--expect-workers", "2", "--host", f"http://{SUBNET.format(n=1, h=1)}:{api_port}",
                               "--chaos-scenario-file", str(path), "--chaos-target", stack.profile_path,
                               "--chaos-report-dir", str(report), "--chaos-quiet"], cwd=ROOT, env=env,
                              stdout=master_log, stderr=subprocess.STDOUT)
    workers, logs = [], []
    for n, ns in enumerate(two_hosts, 1):
        workdir = tmp_path / f"worker-{n}"
        workdir.mkdir()
        logs.append(workdir / "worker.log")
        workers.append(start_worker(ns, master_port, workdir, open(logs[-1], "w")))
    try:
        if kill_worker_at:
            wait_for(lambda: kill_worker_at in (tmp_path / "master.log").read_text(), 60, kill_worker_at)
            kill_with_answers_in_flight(stack, workers[1])
        code = master.wait(timeout=180)
    finally:
        for proc in [master, *workers]:
            stop_pid(proc.pid)
    return code, load_verdict(report), history_records(report), [log.read_text() for log in logs], tmp_path


def kill_with_answers_in_flight(stack, worker) -> None:
    """SIGKILL a worker while the shop holds orders it accepted from that worker and whose answers have not
    reached it: the certain window for 'unshipped'. The test's own API link delays every answer by 4 s (under the
    users' 5 s timeout); once orders accepted after that from both load generators are in the shop's idempotency
    hash, each generator has one waiting for its answer, and the kill lands inside that wait."""
    cache = redis.Redis.from_url(stack.datastores["cache"])
    toxics = f"{stack.toxiproxy_url}/proxies/api-remote/toxics"
    resp = requests.post(toxics, json={"name": "hold-answers", "type": "latency", "stream": "downstream",
                                       "attributes": {"latency": 4000}}, timeout=5)
    assert resp.status_code == 200, resp.text
    before = set(cache.hkeys("idempotency"))
    try:
        wait_for(lambda: len({k.split(b"-")[0] for k in set(cache.hkeys("idempotency")) - before}) == 2, 3,
                 "orders accepted from both load generators after their answers were held")
        worker.send_signal(signal.SIGKILL)
    finally:
        requests.delete(f"{toxics}/hold-answers", timeout=5)


SCENARIO = """\
name: remote-workers
load: {{users: 20, spawn_rate: 20, run_time: 8s, user_classes: [OrderUser], wait: [0.3, 1],
       settings: {{retry_share: 0.2}}}}
values: {{product: "remote-{{run_id}}", stock: 100000}}
faults:
  - {{name: kill-writer, action: process.kill, target: worker, at: 2s, heal_after: 3s}}
invariants: {{no_data_loss: {{}}, no_duplicates: {{}}, catch_up: {{max: 30s}}}}
allow_worker_loss: {allow}
"""


def test_workers_in_their_own_namespaces_give_the_master_a_complete_history(system_stack, tmp_path, two_hosts):
    stack = system_stack("shop")
    code, verdict, history, worker_logs, _ = run_master(stack, tmp_path, two_hosts, SCENARIO.format(allow="false"))
    assert code == 0, (tmp_path / "master.log").read_text()[-3000:]
    assert verdict["workers"] == 2 and verdict["history_complete"]
    product = verdict["values"]["product"]
    acked = {op["key"] for op in history if op["outcome"] == "ok"}
    kept = {k for (k,) in sql(stack.datastores["db"], "SELECT idempotency_key FROM orders WHERE product_id = %s",
                              (product,))}
    unknown = {op["key"] for op in history if op["outcome"] == "info"}
    assert len(acked) > 50 and acked <= kept  # every acknowledgement the master holds was kept
    assert kept - acked <= unknown  # and every kept order is in its history: acknowledged, or outcome unknown
    tags = {op["key"].split("-")[0] for op in history}
    assert len(tags) == 2  # both namespaced load generators took part
    (fault,) = verdict["faults"]
    assert fault["injected_at"] is not None and fault["healed_at"] is not None
    for log in worker_logs:  # faults fire only from the master
        assert "injected" not in log and "kill-writer" not in log


def test_a_killed_remote_worker_is_named_and_its_unshipped_operations_are_unknown(system_stack, tmp_path,
                                                                                 two_hosts):
    stack = system_stack("shop")
    code, verdict, history, _, _ = run_master(stack, tmp_path, two_hosts, SCENARIO.format(allow="true"),
                                              kill_worker_at="fault kill-writer injected")
    assert [w["node"] for w in verdict["lost_workers"]] and not verdict["history_complete"]
    lost_tag = verdict["lost_workers"][0]["tag"]
    loss = next(i for i in verdict["invariants"] if i["name"] == "no_data_loss")
    assert loss["status"] == "valid", loss  # nothing the master knows to be acknowledged is missing
    product = verdict["values"]["product"]
    kept = {k for (k,) in sql(stack.datastores["db"], "SELECT idempotency_key FROM orders WHERE product_id = %s",
                              (product,))}
    reported = {op["key"] for op in history}
    unshipped = {k for k in kept if k.startswith(lost_tag) and k not in reported}
    assert unshipped, "the kill should leave operations the master never heard of"
    assert verdict["history"]["unexpected"] == 0  # kept rows of the lost worker are not 'never attempted'
    assert code in (0, 3)
