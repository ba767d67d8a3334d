"""Every fault family against real servers and processes: what inject does is seen from outside (a process
state, a socket, a Redis client list, a PostgreSQL session), heal undoes it, a heal from the journal record
alone (a crashed run) undoes it too, and a target the harness cannot reach fails preflight. The network faults
run against the fault proxy an embedded stack starts for itself and against a second proxy process reached
through TOXIPROXY_URL."""
import json
import os
import socket
import subprocess
import sys
import time

import psycopg
import pytest
import redis
import requests

from chaos_hooks.common.errors import ScenarioError, TargetUnreachable
from chaos_hooks.faults import FAULT_ACTIONS, build_faults
from chaos_hooks.common.ports import free_port
from chaos_hooks.common.procs import is_running, stop_pid
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.spec.timeline import FaultSpec
from helpers import CLI, servers_only, wait_for


def state_of(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def fault(profile, action, target, **params):
    (built,) = build_faults([FaultSpec(f"f-{action}", action, target, 0, None, params)], profile)
    return built


@pytest.fixture
def sleeper(tmp_path, home):
    """A process of our own with a pidfile, and a profile naming it as component `sleeper`."""
    pidfile = tmp_path / "sleeper.pid"
    code = (f"import os, signal, sys, time\n"
            f"signal.signal(signal.SIGTERM, lambda *_: (open({str(tmp_path / 'terms')!r}, 'a').write('term\\n'), "
            f"sys.exit(0)))\n"
            f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)\n")
    argv = [sys.executable, "-c", code]
    proc = subprocess.Popen(argv)
    wait_for(pidfile.exists, 10, "the sleeper's pidfile")
    profile = tmp_path / "target.json"
    profile.write_text(json.dumps({"host": "http://127.0.0.1:9",
                                   "components": {"sleeper": {"pidfile": str(pidfile), "start": argv}}}))
    yield load_profile(str(profile)), proc
    for pid in {proc.pid, int(pidfile.read_text() or 0)} - {0}:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    proc.wait()


def test_pause_stops_the_process_and_any_heal_continues_it(sleeper):
    profile, proc = sleeper
    pause = fault(profile, "process.pause", "sleeper")
    record = pause.heal_record()
    facts = pause.inject()
    assert facts["pid"] == proc.pid and facts["process"].startswith(f"pid {proc.pid} from ")  # described as found
    wait_for(lambda: state_of(proc.pid) == "T", 5, "the process to stop")
    FAULT_ACTIONS["process.pause"].heal_from_record(record)  # what `locust-chaos heal` does after a crash
    wait_for(lambda: state_of(proc.pid) in "SR", 5, "the process to continue")
    pause.heal()  # idempotent
    assert state_of(proc.pid) in "SR"


def test_term_stops_gracefully_and_restart_starts_a_new_copy(sleeper, tmp_path):
    profile, proc = sleeper
    restart = fault(profile, "process.restart", "sleeper", grace=2.0)
    facts = restart.inject()
    assert facts["pid"] == proc.pid and facts["new_pid"] != proc.pid and is_running(facts["new_pid"])
    assert (tmp_path / "terms").read_text() == "term\n"  # asked to stop (SIGTERM), not killed
    term = fault(profile, "process.term", "sleeper")
    assert term.inject()["pid"] == facts["new_pid"]
    assert not is_running(facts["new_pid"])
    term.heal()
    assert profile.components["sleeper"].running_pid() not in (None, facts["new_pid"])


def test_a_component_that_is_not_running_fails_preflight(sleeper):
    profile, proc = sleeper
    os.kill(proc.pid, 9)
    proc.wait()
    with pytest.raises(TargetUnreachable, match=r"components\.sleeper: no running process \(pidfile "):
        fault(profile, "process.kill", "sleeper").preflight()


@pytest.fixture(scope="module", params=["own proxy", "TOXIPROXY_URL"])
def link_stack(request):
    """A Redis behind a link `cache` of an embedded stack: on the fault proxy the stack starts for itself, or on
    a second, independently started proxy process the stack finds at TOXIPROXY_URL, as it would a real
    Toxiproxy. The network tests run against both."""
    external = None
    if request.param == "TOXIPROXY_URL":
        port = free_port()
        external = subprocess.Popen([CLI, "proxy", "--port", str(port)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.STDOUT)
        os.environ["TOXIPROXY_URL"] = f"http://127.0.0.1:{port}"
    stack = servers_only({"cache": {"kind": "redis"}}, links=["cache"])
    try:
        try:
            stack.start_servers()  # waits for the proxy at TOXIPROXY_URL to answer
        finally:
            os.environ.pop("TOXIPROXY_URL", None)
        assert stack.external_proxy is (external is not None)
        yield stack
    finally:
        stack.down()
        if external is not None:
            stop_pid(external.pid)


@pytest.fixture
def linked(link_stack, tmp_path):
    """A target profile naming the stack's proxy and its link, and a Redis client that goes through the link."""
    profile = tmp_path / "target.json"
    profile.write_text(json.dumps({"host": "http://127.0.0.1:9", "toxiproxy_url": link_stack.toxiproxy_url,
                                   "datastores": dict(link_stack.datastores), "links": link_stack.links}))
    host, port = link_stack.links["cache"]["listen"].rsplit(":", 1)
    return load_profile(str(profile)), redis.Redis(host=host, port=int(port), socket_timeout=5)


@pytest.fixture
def stores(datastores, tmp_path):
    """A target profile naming the tests' Redis and PostgreSQL (no links)."""
    profile = tmp_path / "target.json"
    profile.write_text(json.dumps({"host": "http://127.0.0.1:9", "datastores": {
        "cache": datastores["redis_url"], "db": datastores["database_url"]}}))
    return load_profile(str(profile))


def round_trip(client) -> float:
    started = time.perf_counter()
    client.ping()
    return time.perf_counter() - started


def test_latency_on_a_link_and_its_removal(linked):
    profile, client = linked
    slow = fault(profile, "network.latency", "cache", latency=150, stream="downstream")
    record = slow.heal_record()
    slow.inject()
    assert round_trip(client) >= 0.15
    assert [t["name"] for t in requests.get(f"{profile.toxiproxy_url}/proxies/cache/toxics", timeout=5).json()] == \
        ["chaos-f-network.latency-downstream"]
    FAULT_ACTIONS["network.latency"].heal_from_record(record)
    assert round_trip(client) < 0.1
    slow.heal()  # idempotent: the toxic is already gone


def test_down_cuts_the_link_and_heal_restores_it(linked):
    profile, client = linked
    down = fault(profile, "network.down", "cache")
    down.inject()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    down.heal()
    wait_for(lambda: _pings(client), 5, "the link to come back")


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_a_link_the_profile_does_not_name_or_a_dead_proxy(linked, tmp_path):
    profile, _ = linked
    with pytest.raises(ScenarioError, match="unknown link 'nope'"):
        fault(profile, "network.latency", "nope", latency=1)
    profile.toxiproxy_url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TargetUnreachable):
        fault(profile, "network.latency", "cache", latency=1).preflight()


def test_redis_client_kill_spares_the_harness(stores, datastores):
    profile = stores
    victim = redis.Redis.from_url(datastores["redis_url"])
    victim.client_setname("the-system")
    before = {c["name"] for c in victim.client_list()}
    assert "the-system" in before
    facts = fault(profile, "redis.client_kill", "cache").inject()
    assert facts["connections_killed"] >= 1
    watcher = redis.Redis.from_url(datastores["redis_url"], client_name="observer")
    assert "the-system" not in {c["name"] for c in watcher.client_list()}


def test_postgres_blip_and_lock(stores, datastores):
    profile = stores
    system = psycopg.connect(datastores["database_url"], autocommit=True)
    system.execute("CREATE TABLE IF NOT EXISTS locked_things (n int)")
    facts = fault(profile, "postgres.terminate_backends", "db").inject()
    assert facts["sessions_terminated"] >= 1
    with pytest.raises(psycopg.OperationalError):
        system.execute("SELECT 1")
    lock = fault(profile, "postgres.lock_table", "db", table="locked_things")
    lock.inject()
    with psycopg.connect(datastores["database_url"], autocommit=True) as other:
        other.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("INSERT INTO locked_things VALUES (1)")
        lock.heal()
        other.execute("INSERT INTO locked_things VALUES (1)")
    with pytest.raises(ScenarioError, match="is not a postgresql datastore"):
        fault(profile, "postgres.terminate_backends", "cache")


def test_shell_command_and_its_heal(tmp_path, home):
    marker = tmp_path / "drained"
    profile = tmp_path / "target.yaml"
    profile.write_text(f"host: http://127.0.0.1:9\ncommands:\n  drain: {{run: [touch, {marker}], heal: [rm, {marker}], "
                       f"timeout: 5s}}\n  broken: {{run: [sh, -c, 'echo no >&2; exit 3'], timeout: 5s}}\n")
    prof = load_profile(str(profile))
    drain = fault(prof, "shell.command", "drain")
    drain.inject()
    assert marker.exists()
    FAULT_ACTIONS["shell.command"].heal_from_record(drain.heal_record())
    assert not marker.exists()
    with pytest.raises(TargetUnreachable, match="exited 3: no"):
        fault(prof, "shell.command", "broken").inject()


def test_a_port_nobody_listens_on_is_what_down_leaves(linked):
    profile, _ = linked
    listen = profile.links["cache"]["listen"]
    down = fault(profile, "network.down", "cache")
    down.inject()
    host, port = listen.split(":")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2)
    down.heal()
