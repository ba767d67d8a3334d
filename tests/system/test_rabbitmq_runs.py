"""RabbitMQ as a first-class datastore, in real chaos runs against a private broker (never the machine's own):
users publish to a queue (publisher confirms: ok = the broker took it), a consumer drains it; the backlog read
(`rabbitmq: {queue}`) makes catch_up decide — a wedged consumer holding an unacknowledged message leaves the
queue stuck (invalid, the figure equal to what rabbitmqctl on that node reports), a healthy one drains it after
a datastore.outage that pauses the broker's VM; and rabbitmq.close_connections closes the consumer's
connection through the management API."""
import os
import subprocess
import sys
import uuid

import pika
import pytest

from chaos_hooks.common.procs import read_pidfile, stop_pid
from helpers import ROOT, invariant, load_verdict, run_cli, wait_for

LOCUSTFILE = '''from locust import User, constant, task
import pika

from chaos_hooks import history, run


class Publisher(User):
    wait_time = constant(0.05)

    def on_start(self):
        url = run.values["amqp"]
        self.conn = pika.BlockingConnection(pika.URLParameters(url + "?socket_timeout=3&blocked_connection_timeout=3"))
        self.channel = self.conn.channel()
        self.channel.confirm_delivery()

    @task
    def publish(self):
        key = history.new_key()
        with history.operation("publish", key) as op:
            try:
                self.channel.basic_publish("", run.values["queue"], key.encode(),
                                           pika.BasicProperties(delivery_mode=2), mandatory=True)
                op.ok()
            except pika.exceptions.AMQPError:
                op.info()
                self.on_start()
'''


def scenario(tmp_path, queue: str, url: str, faults: str = "") -> str:
    path = tmp_path / f"{queue}.yaml"
    path.write_text(f"""name: rabbit-{queue}
load: {{users: 2, spawn_rate: 2, run_time: 4s}}
values: {{queue: {queue}, amqp: "{url}"}}
{faults}
invariants: {{catch_up: {{max: 8s, stuck_after: 3s}}}}
""")
    return str(path)


@pytest.fixture
def setup(rabbitmq, tmp_path):
    url = rabbitmq.amqp_url
    profile = tmp_path / "target.yaml"
    profile.write_text(f"""host: http://127.0.0.1:9
ready: none
datastores:
  bus: "{url}?management={rabbitmq.management_url}"
components:
  bus: {{pidfile: {rabbitmq.base}/rabbit.pid, user: rabbitmq}}
reads:
  backlog: {{from: bus, rabbitmq: {{queue: "{{queue}}"}}}}
""")
    locustfile = tmp_path / "publishers.py"
    locustfile.write_text(LOCUSTFILE)
    consumers = []

    def consumers_on(queue: str) -> int:
        """The broker's own count of the queue's consumers (a passive declare: over AMQP, no rabbitmqctl boot)."""
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            return conn.channel().queue_declare(queue, passive=True).method.consumer_count
        finally:
            conn.close()

    def consumer(queue: str, *extra):
        conn = pika.BlockingConnection(pika.URLParameters(url))
        conn.channel().queue_declare(queue, durable=True)  # the consumer only consumes: the queue is made here
        conn.close()
        pidfile = tmp_path / f"consumer-{queue}.pid"
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "rabbit_consumer.py"), "--url", url,
                                 "--queue", queue, "--pidfile", str(pidfile), *extra],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        consumers.append(proc)
        wait_for(lambda: read_pidfile(str(pidfile)), 30, "the consumer to start")
        wait_for(lambda: consumers_on(queue) >= 1, 30, "the consumer on its queue")
        return proc
    yield rabbitmq, str(profile), str(locustfile), consumer
    for proc in consumers:
        stop_pid(proc.pid)


def run(tmp_path, home, profile, locustfile, scenario_path, name):
    code, out = run_cli(["run", scenario_path, "--target", profile, "--locustfile", locustfile, "--report-dir",
                         str(tmp_path / name), "--quiet"], home)
    return code, out, load_verdict(tmp_path / name)


def test_a_wedged_consumer_leaves_the_queue_stuck_and_catch_up_fails(setup, tmp_path, home):
    broker, profile, locustfile, consumer = setup
    queue = f"q{uuid.uuid4().hex[:8]}"
    consumer(queue, "--wedge-after", "3")
    code, out, verdict = run(tmp_path, home, profile, locustfile, scenario(tmp_path, queue, broker.amqp_url), "wedged")
    assert code == 1, out[-3000:]
    catch_up = invariant(verdict, "catch_up")
    assert catch_up["status"] == "invalid" and "stuck" in catch_up["summary"], catch_up
    figures = broker.list_queues()[queue]
    held = figures["ready"] + figures["unacknowledged"]
    assert held > 10 and figures["unacknowledged"] == 1
    assert f"stuck at {held}" in catch_up["summary"], (catch_up, figures)


def test_a_healthy_consumer_drains_after_the_broker_is_paused(setup, tmp_path, home):
    broker, profile, locustfile, consumer = setup
    queue = f"q{uuid.uuid4().hex[:8]}"
    consumer(queue)
    faults = ("faults:\n"
              "  - {name: freeze-broker, action: datastore.outage, target: bus, mode: pause, at: 1s, heal_after: 1.5s}")
    code, out, verdict = run(tmp_path, home, profile, locustfile,
                             scenario(tmp_path, queue, broker.amqp_url, faults), "healthy")
    assert code == 0, out[-3000:]
    (fault,) = verdict["faults"]
    assert fault["injected_at"] is not None and fault["healed_at"] is not None
    assert invariant(verdict, "catch_up")["status"] == "valid"
    assert broker.list_queues()[queue] == {"ready": 0, "unacknowledged": 0, "consumers": 1}
    with open(f"{broker.base}/rabbit.pid") as f:
        pid = int(f.read().strip())
    with open(f"/proc/{pid}/stat") as f:
        assert f.read().rsplit(")", 1)[1].split()[0] not in ("T", "t")  # the pause was healed


def test_closing_connections_leaves_the_queue_without_its_consumer(setup, tmp_path, home):
    broker, profile, locustfile, consumer = setup
    queue = f"q{uuid.uuid4().hex[:8]}"
    first = consumer(queue)
    faults = "faults:\n  - {name: drop-clients, action: rabbitmq.close_connections, target: bus, at: 1.5s}"
    code, out, verdict = run(tmp_path, home, profile, locustfile,
                             scenario(tmp_path, queue, broker.amqp_url, faults), "closed")
    (fault,) = verdict["faults"]
    assert fault["facts"]["connections_closed"] >= 1
    assert first.wait(timeout=30) == 3  # the consumer saw the broker close its connection (CONNECTION_FORCED)
    figures = broker.list_queues()[queue]
    assert figures["consumers"] == 0 and figures["ready"] > 0
    catch_up = invariant(verdict, "catch_up")
    assert code == 1 and catch_up["status"] == "invalid" and "no consumer" in catch_up["summary"], catch_up
