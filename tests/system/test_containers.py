import sys, os; sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))  # noqa: E401,E702

# Container faults on a real Docker Engine, each observed from outside: a socket to the server inside, and
# docker inspect through a client of the test's own (never the target's own report).
import http.client
import json
import socket
import subprocess

import pytest

from chaos_hooks.targets.compose_ports import published_address
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.targets.container import (ContainerAmbiguous, ContainerNotFound, ContainerTarget,
                                           DockerUnreachable, heal_from_record, note_docker_restart)
from chaos_hooks.common.ports import free_port
from docker_support import (ROOT, compose_project, http_server, make_network,  # noqa: F401
                            run_harness, wait_for)
from helpers import run_cli


def get(host: str, port: int, timeout: float = 2.0) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status
    finally:
        conn.close()


def answers(host: str, port: int) -> bool:
    try:
        return get(host, port, timeout=1.0) == 200
    except OSError:
        return False


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
        return False
    except ConnectionRefusedError:
        return True


def inspect(client, cid: str) -> dict:
    return client.api.inspect_container(cid)


@pytest.fixture
def server(run_harness):
    """server(**run kwargs) -> (container, port): python -m http.server on 127.0.0.1 (host network), answering."""
    def start(**extra):
        port = free_port()
        container = run_harness(http_server(port), **extra)
        wait_for(lambda: answers("127.0.0.1", port), 30, f"http.server in {container.name} to answer")
        return container, port
    return start


def heal_in_other_process(record: dict) -> str:
    """heal_from_record in a fresh interpreter that has only the record, like a heal after the harness died."""
    code = ("import json, sys; from chaos_hooks.targets.container import heal_from_record; "
            "print(heal_from_record(json.load(sys.stdin)))")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(record), capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_kill_refuses_connections_and_a_heal_from_the_record_alone_starts_it(docker_engine, server):
    container, port = server()
    before = inspect(docker_engine, container.id)["State"]
    record = ContainerTarget("web", {"container": container.name}).kill()
    assert record["container_id"] == container.id and json.loads(json.dumps(record)) == record
    wait_for(lambda: refused(port), 15, "connections to be refused after the kill")
    assert inspect(docker_engine, container.id)["State"]["Status"] == "exited"

    message = heal_in_other_process(record)
    assert message.startswith("started")
    wait_for(lambda: answers("127.0.0.1", port), 30, "the server to answer after the heal")
    after = inspect(docker_engine, container.id)["State"]
    assert after["Running"] and after["Pid"] != before["Pid"] and after["StartedAt"] != before["StartedAt"]
    # Idempotent: a second heal finds it running and starts nothing.
    assert "is running" in heal_from_record(record)
    assert inspect(docker_engine, container.id)["State"]["StartedAt"] == after["StartedAt"]


def test_stop_refuses_connections_until_the_heal(docker_engine, server):
    container, port = server()
    target = ContainerTarget("web", {"container": container.name})
    record = target.stop(timeout=1)
    assert refused(port)
    assert inspect(docker_engine, container.id)["State"]["Status"] == "exited"
    assert target.state()["status"] == "exited"
    assert target.heal(record).startswith("started")
    wait_for(lambda: answers("127.0.0.1", port), 30, "the server to answer after the heal")
    assert inspect(docker_engine, container.id)["State"]["Running"]


def test_pause_hangs_requests_until_unpaused(docker_engine, server):
    container, port = server()
    target = ContainerTarget("web", {"container": container.name})
    record = target.pause()
    assert inspect(docker_engine, container.id)["State"]["Paused"]
    with pytest.raises(socket.timeout):
        get("127.0.0.1", port, timeout=1.0)
    # A request sent while paused (the kernel still accepts the connection) is answered once it is unpaused.
    with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        with pytest.raises(socket.timeout):
            sock.recv(100)
        assert heal_from_record(record).startswith("unpaused")
        sock.settimeout(30)
        assert sock.recv(100).startswith(b"HTTP/1.0 200")
    assert not inspect(docker_engine, container.id)["State"]["Paused"]
    assert heal_from_record(record).endswith("is not paused")


def test_restart_runs_a_different_process(docker_engine, server):
    container, port = server()
    before = inspect(docker_engine, container.id)["State"]
    record = ContainerTarget("web", {"container": container.name}).restart(timeout=1)
    after = inspect(docker_engine, container.id)["State"]
    assert after["Running"] and after["Pid"] != before["Pid"] and after["StartedAt"] != before["StartedAt"]
    assert record["after"]["pid"] == after["Pid"] and record["before"]["pid"] == before["Pid"]
    wait_for(lambda: answers("127.0.0.1", port), 30, "the server to answer after the restart")
    assert "is running" in heal_from_record(record)
    assert inspect(docker_engine, container.id)["State"]["StartedAt"] == after["StartedAt"]


def test_restart_policy_always_brings_a_crashed_container_back_and_the_record_shows_it(docker_engine, server):
    container, port = server(restart_policy={"Name": "always"})
    before = inspect(docker_engine, container.id)
    record = ContainerTarget("web", {"container": container.name}).crash()
    assert record["restart_policy"] == "always" and record["before"]["pid"] == before["State"]["Pid"]
    noted = note_docker_restart(record, timeout=20)
    after = inspect(docker_engine, container.id)
    assert noted["docker_restarted_at"] == after["State"]["StartedAt"] != before["State"]["StartedAt"]
    assert after["RestartCount"] == before["RestartCount"] + 1 == noted["restart_count"]
    assert after["State"]["Pid"] != before["State"]["Pid"]
    wait_for(lambda: answers("127.0.0.1", port), 30, "the server Docker restarted to answer")
    message = heal_from_record(record)
    assert "Docker restarted it" in message
    assert inspect(docker_engine, container.id)["State"]["StartedAt"] == after["State"]["StartedAt"]


def test_docker_kill_is_a_manual_stop_even_with_restart_policy_always_and_the_heal_starts_it(docker_engine,
                                                                                            server):
    container, port = server(restart_policy={"Name": "always"})
    record = ContainerTarget("web", {"container": container.name}).kill()
    wait_for(lambda: refused(port), 15, "connections to be refused after the kill")
    assert heal_from_record(record).startswith("started")
    after = inspect(docker_engine, container.id)
    assert after["State"]["Running"] and after["RestartCount"] == 0  # Docker itself restarted nothing
    wait_for(lambda: answers("127.0.0.1", port), 30, "the server to answer after the heal")


def test_disconnect_takes_it_off_the_network_and_the_heal_restores_ip_and_alias(docker_engine, run_harness,
                                                                                make_network):
    net = make_network("172.29.77.0/24")
    ip = "172.29.77.10"
    endpoint = docker_engine.api.create_endpoint_config(aliases=["web"], ipv4_address=ip)
    container = run_harness(http_server(8000, "0.0.0.0"),
                            network=net.name, network_mode=None, networking_config={net.name: endpoint})
    wait_for(lambda: answers(ip, 8000), 30, "the server on the bridge network to answer")

    record = ContainerTarget("web", {"container": container.name}).disconnect(net.name)
    assert record["ipv4_address"] == ip and record["aliases"] == ["web"]
    assert net.name not in inspect(docker_engine, container.id)["NetworkSettings"]["Networks"]
    assert not answers(ip, 8000)

    assert heal_from_record(record).startswith(f"reconnected container {container.name}")
    endpoint_now = inspect(docker_engine, container.id)["NetworkSettings"]["Networks"][net.name]
    assert endpoint_now["IPAddress"] == ip and "web" in endpoint_now["Aliases"]
    wait_for(lambda: answers(ip, 8000), 30, "the server to answer on its old address")
    assert heal_from_record(record).endswith(f"is on network {net.name!r}")


def test_disconnect_refuses_a_network_it_is_not_on(server):
    container, _ = server()
    with pytest.raises(ScenarioError, match=r"is not on network 'elsewhere' \(it is on: host\)"):
        ContainerTarget("web", {"container": container.name}).disconnect("elsewhere")


def test_heal_from_record_reports_a_container_that_is_gone(docker_engine, server):
    container, port = server()
    target = ContainerTarget("web", {"container": container.name})
    records = [target.pause()]
    docker_engine.api.unpause(container.id)
    records.append(target.kill())
    docker_engine.api.remove_container(container.id, force=True)
    for record in records:
        message = heal_from_record(record)
        assert message == f"container {container.name} ({container.id[:12]}) no longer exists; nothing to heal"


def test_resolution_errors_name_what_was_looked_for_and_what_exists(server):
    container, _ = server()
    with pytest.raises(ContainerNotFound) as err:
        ContainerTarget("web", {"container": container.name[:-1]}).resolve()  # a prefix is no match
    assert f"no container named {container.name[:-1]!r}" in str(err.value) and container.name in str(err.value)


def test_an_unreachable_daemon_names_its_socket(tmp_path):
    sock = f"unix://{tmp_path}/docker.sock"
    with pytest.raises(DockerUnreachable, match=f"Docker daemon at {sock} does not answer"):
        ContainerTarget("web", {"container": "x"}, base_url=sock).resolve()


COMPOSE = f"""
version: "2.4"
services:
  web:
    image: HARNESS_IMAGE
    command: {json.dumps(http_server(8000, "0.0.0.0"))}
    ports: ["8000"]
  solo:
    image: HARNESS_IMAGE
    command: {json.dumps(http_server(8001, "0.0.0.0"))}
"""


@pytest.fixture(scope="module")
def scaled(compose_project):
    """One compose project for the module's compose tests: web scaled to 2 (8000 published), solo (nothing)."""
    return compose_project(COMPOSE, "--scale", "web=2")


def cli_port(project: str, path: str, service: str, port: int, index: int = 1) -> str:
    """What docker-compose itself says the published address is (host:port)."""
    return subprocess.run(["docker-compose", "-p", project, "-f", path, "port", "--index", str(index), service,
                           str(port)], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_compose_services_resolve_by_index_and_ports_map_to_the_host(docker_engine, scaled):
    project, path = scaled
    compose = {"project": project, "file": path}

    with pytest.raises(ContainerAmbiguous, match=r"has 2 containers \(#1 \S+, #2 \S+\): give index: N"):
        ContainerTarget("web", {"service": "web"}, compose).resolve()
    with pytest.raises(ContainerNotFound, match=r"has no container #3 \(it has #1 \S+, #2 \S+\)"):
        ContainerTarget("web", {"service": "web", "index": 3}, compose).resolve()
    with pytest.raises(ScenarioError, match=r"has no service 'nope' \(services: solo, web\)"):
        ContainerTarget("web", {"service": "nope"}, compose).resolve()

    second = ContainerTarget("web", {"service": "web", "index": 2}, compose).resolve()
    labels = inspect(docker_engine, second)["Config"]["Labels"]
    assert (labels["com.docker.compose.service"], labels["com.docker.compose.container-number"]) == ("web", "2")
    solo = ContainerTarget("solo", {"service": "solo"}, compose).resolve()  # one container: no index needed
    assert inspect(docker_engine, solo)["Config"]["Labels"]["com.docker.compose.service"] == "solo"

    for index in (1, 2):
        address = published_address(compose, "web", 8000, index=index)
        assert address.split(":")[1] == cli_port(project, path, "web", 8000, index).split(":")[1]
        host, port = address.rsplit(":", 1)
        wait_for(lambda: answers(host, int(port)), 30, f"web #{index} to answer at {address}")
    with pytest.raises(ScenarioError, match=r"does not publish 8001/tcp \(published: none\)"):
        published_address(compose, "solo", 8001)


PROBE = """\
name: probe
load: {users: 1, run_time: 5s}
invariants: {no_data_loss: {}}
"""


def test_profile_addresses_come_from_published_ports_when_a_run_starts(scaled, tmp_path, home):
    project, path = scaled
    target, scenario = tmp_path / "target.yaml", tmp_path / "probe.yaml"
    scenario.write_text(PROBE)

    def profile(host: str, datastores: str = "{}") -> str:
        target.write_text(f"compose: {{project: {project}, file: {path}}}\nhost: {host}\n"
                          f"ready: {{http: GET /, expect: 200}}\ndatastores: {datastores}\n"
                          f"reads: {{persisted: {{http: GET /rows.json, path: rows}}}}\n")
        return str(target)

    def validate(host: str, **env) -> tuple[int, str]:
        return run_cli(["validate", str(scenario), "--target", profile(host)], home=home, env_extra=env)

    from chaos_hooks.spec import published_addresses
    from chaos_hooks.spec.profile import load_profile
    resolved = published_addresses.resolve(load_profile(profile(
        "{service: web, port: 8000, index: 2}", '{cache: {url: "redis://:pw@web:8000/3", service: web, index: 1}}')))
    second = cli_port(project, path, "web", 8000, 2).split(":")[1]
    first = cli_port(project, path, "web", 8000, 1).split(":")[1]
    assert resolved.host == f"http://127.0.0.1:{second}" == resolved.control_host
    assert resolved.datastores["cache"] == f"redis://:pw@127.0.0.1:{first}/3"
    assert get("127.0.0.1", int(second)) == 200

    # validate tries every read once: web #2 serves a rows document, written into its container
    subprocess.run(["docker-compose", "-p", project, "-f", path, "exec", "-T", "--index", "2", "web", "python", "-c",
                    "open('/tmp/rows.json', 'w').write('{\"rows\": []}')"], check=True, capture_output=True,
                   timeout=60)
    code, out = validate("{service: web, port: 8000, index: 2}")  # ready and the read go to the published port
    assert code == 0 and f"ready http://127.0.0.1:{second}/" in out and "1 of 1 read(s) answered" in out, out
    # A scaled service without index, and a port the service does not publish: the profile is wrong (exit 2).
    code, out = validate("{service: web, port: 8000}")
    assert code == 2 and out.strip().startswith(f"locust-chaos: error: {target}:2: host.service: ") and \
        "has 2 containers" in out and len(out.strip().splitlines()) == 1, out
    code, out = validate("{service: solo, port: 8001}")
    assert code == 2 and f"{target}:2: host.service: " in out and "does not publish 8001/tcp" in out, out
    # The daemon does not answer, or the service is not running: the target is unreachable (exit 3), one line.
    code, out = validate("{service: web, port: 8000, index: 2}", DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    assert code == 3 and f"Docker daemon at unix://{tmp_path}/none.sock does not answer" in out and \
        len(out.strip().splitlines()) == 1, out
    subprocess.run(["docker-compose", "-p", project, "-f", path, "stop", "-t", "1", "solo"], check=True,
                   capture_output=True, timeout=60)
    code, out = validate("{service: solo, port: 8001}")
    assert code == 3 and "compose service 'solo'" in out and "is not running (status exited)" in out and \
        len(out.strip().splitlines()) == 1, out
