"""chaos_hooks.datastores.amqp_broker against a private rabbitmq-server: backlogs checked against rabbitmqctl on that node,
a wedged and a killed consumer, the connection kill, and errors that never show the password."""
import sys, os; sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))  # noqa: E401,E702
import signal
import subprocess
import time
import uuid
from urllib.parse import quote

import pika
import pytest

from chaos_hooks.datastores.amqp_broker import HARNESS_CONNECTION, AmqpBroker, BrokerError
from chaos_hooks.common.ports import free_port

CONSUMER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rabbit_consumer.py")


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def backlog_is(broker: AmqpBroker, queue: str, **expected):
    """A predicate: the management API's backlog has these figures (it refreshes every 0.5 s here)."""
    def check():
        got = broker.queue_backlog(queue)
        return got if all(got[k] == v for k, v in expected.items()) else None
    return check


def publish(rabbit, queue: str, bodies) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(rabbit.amqp_url))
    try:
        channel = conn.channel()
        channel.confirm_delivery()  # each publish returns once the broker has the message
        for body in bodies:
            channel.basic_publish("", queue, body.encode())
    finally:
        conn.close()


@pytest.fixture
def queue(rabbitmq):
    name = f"q-{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(rabbitmq.amqp_url))
    conn.channel().queue_declare(name)
    conn.close()
    yield name
    conn = pika.BlockingConnection(pika.URLParameters(rabbitmq.amqp_url))
    conn.channel().queue_delete(name)
    conn.close()


@pytest.fixture
def consumer(rabbitmq, tmp_path):
    """consumer(queue, *extra_args) -> (Popen, out_path, log_path), once it consumes; killed by pid after."""
    started = []

    def start(queue: str, *extra: str):
        n = len(started)
        pidfile, out, log = (tmp_path / f"consumer{n}.pid", tmp_path / f"consumer{n}.out",
                             tmp_path / f"consumer{n}.log")
        with open(log, "wb") as log_file:
            proc = subprocess.Popen([sys.executable, CONSUMER, "--url", rabbitmq.amqp_url, "--queue", queue,
                                     "--pidfile", str(pidfile), "--out", str(out), *extra],
                                    stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        started.append(proc)
        wait_for(lambda: pidfile.exists() or proc.poll() is not None, 20, "the consumer's pidfile")
        assert proc.poll() is None, log.read_text()
        assert int(pidfile.read_text()) == proc.pid
        return proc, out, log
    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def lines(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_backlog_is_the_published_count_from_management_and_from_a_passive_declare(rabbitmq, queue):
    publish(rabbitmq, queue, [f"m{i}" for i in range(25)])
    broker = AmqpBroker(rabbitmq.amqp_url, management=rabbitmq.management_url)
    assert broker.vhost == "lc/vhost" and broker.password == rabbitmq.password  # %2F and %40 etc. decoded
    got = wait_for(backlog_is(broker, queue, ready=25, source="management"), 15,
                   "25 ready in the management API (a just-made queue has no figures there at first)")
    assert got == {"ready": 25, "unacknowledged": 0, "consumers": 0, "source": "management"}
    assert rabbitmq.list_queues()[queue] == {"ready": 25, "unacknowledged": 0, "consumers": 0}

    # No management API answers on this port: the AMQP passive declare still counts (but no unacked).
    fallback = AmqpBroker(rabbitmq.amqp_url, management=f"http://127.0.0.1:{free_port()}")
    assert fallback.queue_backlog(queue) == {"ready": 25, "unacknowledged": None, "consumers": 0, "source": "amqp"}


def test_default_management_address_is_the_amqp_host_on_15672():
    broker = AmqpBroker("amqp://u:p@127.0.0.1:5999/%2F")  # nothing is contacted here
    assert (broker.vhost, broker.management_address, broker.user) == ("/", "127.0.0.1:15672", "u")


def test_a_wedged_consumer_backs_the_queue_up_and_its_kill_requeues_what_it_held(rabbitmq, queue, consumer):
    publish(rabbitmq, queue, [f"m{i}" for i in range(10)])
    broker = AmqpBroker(rabbitmq.amqp_url, management=rabbitmq.management_url)
    proc, out, log = consumer(queue, "--wedge-after", "3")
    wait_for(lambda: "wedged" in log.read_text(), 20, "the consumer to wedge")
    assert lines(out) == ["m0", "m1", "m2"]
    wait_for(backlog_is(broker, queue, ready=6, unacknowledged=1, consumers=1), 15, "6 ready, 1 unacked")

    publish(rabbitmq, queue, [f"n{i}" for i in range(5)])
    wait_for(backlog_is(broker, queue, ready=11, unacknowledged=1), 15, "the backlog to grow to 11")
    # It stays wedged: over several statistics intervals nothing more is acked or delivered.
    seen = set()
    until = time.monotonic() + 3
    while time.monotonic() < until:
        got = broker.queue_backlog(queue)
        seen.add((got["ready"], got["unacknowledged"], got["consumers"]))
        time.sleep(0.25)
    assert seen == {(11, 1, 1)}
    assert lines(out) == ["m0", "m1", "m2"] and proc.poll() is None
    assert rabbitmq.list_queues()[queue] == {"ready": 11, "unacknowledged": 1, "consumers": 1}

    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    wait_for(backlog_is(broker, queue, ready=12, unacknowledged=0, consumers=0), 15, "the held message requeued")
    assert rabbitmq.list_queues()[queue] == {"ready": 12, "unacknowledged": 0, "consumers": 0}


def _consumer_connections(broker: AmqpBroker) -> list[str]:
    return [c["client_properties"].get("connection_name") for c in broker.connections()
            if c["client_properties"].get("connection_name") != HARNESS_CONNECTION]


def test_close_connections_closes_the_consumers_connection_but_not_the_harness_own(rabbitmq, queue, consumer):
    broker = AmqpBroker(rabbitmq.amqp_url, management=rabbitmq.management_url)
    proc, _out, log = consumer(queue)
    name = f"rabbit-consumer-{proc.pid}"
    wait_for(lambda: _consumer_connections(broker) == [name], 15, "the consumer's connection listed")
    harness = pika.BlockingConnection(pika.ConnectionParameters(
        "127.0.0.1", rabbitmq.amqp_port, rabbitmq.vhost, pika.PlainCredentials(rabbitmq.user, rabbitmq.password),
        client_properties={"connection_name": HARNESS_CONNECTION}))
    try:
        wait_for(lambda: len(broker.connections()) == 2, 15, "the harness connection listed too")
        assert broker.close_connections(lambda c: False) == 0
        assert broker.close_connections(user="somebody-else") == 0
        assert proc.poll() is None

        assert broker.close_connections() == 1
        assert proc.wait(15) == 3, log.read_text()
        assert "CONNECTION_FORCED" in log.read_text()
        wait_for(lambda: _consumer_connections(broker) == [], 15, "no consumer connection listed")
        names = [c["name"] for c in rabbitmq.list_connections()]
        assert len(names) == 1  # rabbitmqctl on the node: the harness's connection only
        harness.process_data_events(0)  # still open: this raises on a closed connection
        assert harness.is_open
    finally:
        if harness.is_open:
            harness.close()


def test_a_wrong_password_is_one_line_that_never_shows_it(rabbitmq, queue):
    secret = "Wr0ng:pa55%word"
    url = rabbitmq.amqp_url.replace(quote(rabbitmq.password, safe=""),
                                    quote(secret, safe=""))
    assert url != rabbitmq.amqp_url
    for management, says in ((rabbitmq.management_url, "HTTP 401"), (f"http://127.0.0.1:{free_port()}", "refused")):
        with pytest.raises(BrokerError) as caught:
            AmqpBroker(url, management=management).queue_backlog(queue)
        message = str(caught.value)
        assert says in message and "\n" not in message, message
        assert secret not in message and "pa55" not in message, message
    with pytest.raises(BrokerError) as caught:
        AmqpBroker(url, management=rabbitmq.management_url).close_connections()
    assert "HTTP 401" in str(caught.value) and "pa55" not in str(caught.value)


def test_a_missing_queue_is_named_in_one_line(rabbitmq):
    for management in (rabbitmq.management_url, f"http://127.0.0.1:{free_port()}"):
        with pytest.raises(BrokerError) as caught:
            AmqpBroker(rabbitmq.amqp_url, management=management).queue_backlog("no-such-queue")
        message = str(caught.value)
        assert "no-such-queue" in message and "\n" not in message and rabbitmq.password not in message, message


def test_an_unreachable_broker_is_one_line(rabbitmq):
    port, management_port = free_port(), free_port()
    broker = AmqpBroker(f"amqp://u:topsecret1@127.0.0.1:{port}/v", management=f"http://127.0.0.1:{management_port}")
    with pytest.raises(BrokerError) as caught:
        broker.queue_backlog("q")
    message = str(caught.value)
    assert message == f"rabbitmq 127.0.0.1:{port}: cannot connect (Connection refused)", message
    with pytest.raises(BrokerError) as caught:
        broker.close_connections()
    message = str(caught.value)
    assert f"127.0.0.1:{management_port}" in message and "management API" in message and "\n" not in message
    assert "topsecret1" not in message
