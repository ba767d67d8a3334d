import os
import signal
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
# Session fixtures shared by several modules live here: imported into each module instead, pytest would give
# every module its own "session" broker or image check.
from docker_support import docker_engine, harness_image  # noqa: E402,F401
from rabbitmq_support import rabbitmq  # noqa: E402,F401
# Started from a shell's background job, we inherit SIGINT ignored, and so would every Locust master the tests
# Ctrl-C: a child keeps an ignored signal across exec. A handler is reset to the default there instead.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# Nothing a test does touches the checkout's own state dir (.locust-chaos): a session-wide one by default.
os.environ.setdefault("LOCUST_CHAOS_HOME", tempfile.mkdtemp(prefix="locust-chaos-tests-home-"))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private LOCUST_CHAOS_HOME (journal, stack profile, stack registrations) for one test."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("LOCUST_CHAOS_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def datastores():
    """A real redis-server, PostgreSQL and nats-server of the tests' own, on free loopback ports."""
    from helpers import servers_only
    stack = servers_only()
    try:
        urls = stack.start_servers()
        yield {"redis_url": urls["cache"], "database_url": urls["db"], "nats_url": urls["bus"],
               "redis_addr": urls["cache"].split("//")[1].split("/")[0],
               "pg_addr": urls["db"].split("@")[1].split("/")[0], "stack": stack}
    finally:
        stack.down()


@pytest.fixture
def system_stack(home):
    """Starts a reference system's embedded stack in this process: system_stack("shop", bugs=[...])."""
    from chaos_hooks.stack.embedded import EmbeddedStack
    from chaos_hooks.spec.reference_systems import load_system
    started = []

    def start(name: str, bugs=()):
        stack = EmbeddedStack(load_system(name), list(bugs), die_with_parent=True, progress=lambda *_: None)
        started.append(stack)
        stack.up()
        return stack
    yield start
    for stack in started:
        stack.down()


@pytest.fixture
def proxy_server():
    """The embedded proxy, standalone (`locust-chaos proxy`), as a real separate process."""
    import subprocess
    import urllib.request

    from chaos_hooks.common.ports import free_port

    from chaos_hooks.common.procs import stop_pid
    from helpers import CLI, wait_for
    port = free_port()
    proc = subprocess.Popen([CLI, "proxy", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return urllib.request.urlopen(f"{url}/version", timeout=1).status == 200
        except OSError:
            return False
    try:
        wait_for(up, 15, "the proxy API")
        yield url
    finally:
        stop_pid(proc.pid)
        proc.stdout.close()
