"""The harness's own faults on container components, on a real Docker Engine: every process action and
datastore.outage maps onto Docker and is seen from outside (a socket to the server inside, docker inspect through
the test's own client), healed afterwards; container.disconnect leaves a user-defined network and comes back
with its address; a master SIGKILLed mid-pause leaves the container paused until `locust-chaos heal`."""
import os
import signal
import socket
import subprocess

import pytest

from chaos_hooks.faults import build_faults
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.spec.timeline import FaultSpec
from chaos_hooks.common.ports import free_port
from docker_support import http_server, make_network, run_harness  # noqa: F401
from helpers import BIN, ROOT, run_cli, wait_for


def answers(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
        return False
    except ConnectionRefusedError:
        return True


@pytest.fixture
def web(run_harness, tmp_path):
    """A container serving HTTP on a free host port, and a profile naming it as components web and store."""
    port = free_port()
    container = run_harness(http_server(port))
    wait_for(lambda: answers(port), 30, "the server in the container")
    profile = tmp_path / "target.yaml"
    profile.write_text(f"host: http://127.0.0.1:{port}\nready: {{http: GET /, expect: 200}}\n"
                       f"components:\n  web: {{container: {container.name}}}\n  store: {{container: {container.name}}}\n"
                       f"reads:\n  backlog: {{http: GET /backlog, path: n}}\n")  # never read: the run is killed
    return container, port, str(profile)


def one(profile_path, action, target, **params):
    (built,) = build_faults([FaultSpec(f"f-{action}", action, target, 0, None, params)], load_profile(profile_path))
    return built


def state(client, container) -> dict:
    return client.api.inspect_container(container.id)["State"]


@pytest.mark.parametrize("action, down", [("process.kill", "exited"), ("process.term", "exited"),
                                          ("process.pause", "paused"), ("datastore.outage", "exited")])
def test_process_actions_act_on_the_container_and_heal(docker_engine, web, action, down):
    container, port, profile = web
    before = state(docker_engine, container)
    fault = one(profile, action, "store" if action == "datastore.outage" else "web")
    fault.preflight()
    fault.heal_record()  # journal first, as the scheduler does
    facts = fault.inject()
    assert facts["container_id"] == container.id[:12]
    assert state(docker_engine, container)["Status"] == down
    if down == "paused":
        assert not answers(port, timeout=1.0)  # the kernel takes the connection; nobody answers
    else:
        wait_for(lambda: refused(port), 15, "connections refused while it is down")
    fault.heal()
    wait_for(lambda: answers(port), 30, "the server to answer after the heal")
    after = state(docker_engine, container)
    assert after["Running"] and not after["Paused"]
    if down == "exited":
        assert after["Pid"] != before["Pid"]
    else:
        assert after["Pid"] == before["Pid"]  # the same process, continued


def test_restart_gives_a_new_process_and_disconnect_comes_back_with_its_address(docker_engine, run_harness,
                                                                               make_network, web, tmp_path):
    container, port, profile = web
    before = state(docker_engine, container)["Pid"]
    fault = one(profile, "process.restart", "web")
    fault.heal_record()
    fault.inject()
    wait_for(lambda: answers(port), 30, "the server after the restart")
    assert state(docker_engine, container)["Pid"] != before
    fault.heal()

    net = make_network("10.231.7.0/24")
    peer = run_harness(["python", "-c", "import time; time.sleep(600)"], network_mode=None, network=net.name)
    netprofile = tmp_path / "net.yaml"
    netprofile.write_text(f"host: http://127.0.0.1:{port}\ncomponents:\n  peer: {{container: {peer.name}}}\n")
    address = docker_engine.api.inspect_container(peer.id)["NetworkSettings"]["Networks"][net.name]["IPAddress"]
    cut = one(str(netprofile), "container.disconnect", "peer", network=net.name)
    cut.heal_record()
    cut.inject()
    assert net.name not in docker_engine.api.inspect_container(peer.id)["NetworkSettings"]["Networks"]
    cut.heal()
    nets = docker_engine.api.inspect_container(peer.id)["NetworkSettings"]["Networks"]
    assert nets[net.name]["IPAddress"] == address


def test_a_container_paused_by_a_killed_master_is_unpaused_by_heal(docker_engine, web, tmp_path, home):
    container, port, profile = web
    locustfile = tmp_path / "users.py"
    locustfile.write_text('''from locust import HttpUser, constant, task

from chaos_hooks import history


class Reader(HttpUser):
    wait_time = constant(0.2)

    @task
    def read(self):
        with history.operation("read", history.new_key()) as op:
            op.from_http(self.client.get("/", timeout=2))
''')
    scenario = tmp_path / "pause.yaml"
    scenario.write_text("name: pause-web\nload: {users: 2, spawn_rate: 2, run_time: 40s}\n"
                        "faults:\n  - {name: freeze-web, action: process.pause, target: web, at: 0.5s, heal_after: 30s}\n"
                        "invariants: {catch_up: {max: 5s}}\n")
    log = tmp_path / "master.log"
    with open(log, "w") as out:
        master = subprocess.Popen([os.path.join(BIN, "locust"), "-f", str(locustfile), "--headless",
                                   "--chaos-scenario-file", str(scenario), "--chaos-target", profile,
                                   "--chaos-report-dir", str(tmp_path / "report")], cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT, env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)))
    try:
        wait_for(lambda: "fault freeze-web injected" in log.read_text(), 60, "the pause to land")
        master.send_signal(signal.SIGKILL)
        master.wait(timeout=10)
        assert state(docker_engine, container)["Paused"]
        code, out = run_cli(["heal"], home)
        assert code == 0 and "freeze-web (process.pause): healed" in out, out
        assert not state(docker_engine, container)["Paused"]
        wait_for(lambda: answers(port), 15, "the server to answer after the heal")
    finally:
        if master.poll() is None:
            master.kill()
