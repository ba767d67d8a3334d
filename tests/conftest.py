import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def home(tmp_path):
    """A private LOCUST_CHAOS_HOME (journal, stack profile) for one test."""
    path = tmp_path / "home"
    path.mkdir()
    old = os.environ.get("LOCUST_CHAOS_HOME")
    os.environ["LOCUST_CHAOS_HOME"] = str(path)
    yield path
    if old is None:
        os.environ.pop("LOCUST_CHAOS_HOME", None)
    else:
        os.environ["LOCUST_CHAOS_HOME"] = old


@pytest.fixture
def stack():
    from chaos_hooks.stack import EmbeddedStack
    s = EmbeddedStack(progress=lambda *_: None)
    s.up()
    yield s
    s.down()


@pytest.fixture(scope="session")
def datastores():
    """A real redis-server and PostgreSQL of the tests' own, on free loopback ports."""
    from chaos_hooks.stack import EmbeddedStack
    s = EmbeddedStack(progress=lambda *_: None)
    try:
        redis_url, _ = s.start_redis()
        database_url, _ = s.start_postgres()
        yield {"redis_url": redis_url, "database_url": database_url,
               "redis_addr": redis_url.split("//")[1].split("/")[0],
               "pg_addr": database_url.split("@")[1].split("/")[0]}
    finally:
        s.down()


@pytest.fixture
def proxy_server():
    """The embedded proxy, standalone (`locust-chaos proxy`), as a real separate process."""
    import subprocess
    import urllib.request

    from chaos_hooks.procs import free_port, stop_pid
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
