"""A private RabbitMQ broker for tests: its own node name, epmd, ports, cookie and data in a temp dir.

The machine's own broker (5672, epmd 4369) is never touched: every port here is a free loopback one, the node
registers with an epmd we start ourselves, and teardown signals only the pids started here.
"""
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

import pika
import pytest
import requests

from chaos_hooks.common.ports import free_port

RABBIT_SBIN = "/usr/lib/rabbitmq/bin"  # the real scripts: /usr/sbin's wrappers cd to /var/lib and `su` by name
EPMD = shutil.which("epmd") or "/usr/bin/epmd"
RUN_AS = "rabbitmq"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
# A password with URL-special characters and a vhost with a slash: the URL code must quote both right.
USER = "lc-tester"
PASSWORD = "s3cret:p@ss/w%rd"
VHOST = "lc/vhost"


def free_ports(n: int) -> list[int]:
    return [free_port() for _ in range(n)]  # distinct: free_port never gives a port twice


def _as_rabbitmq():
    """preexec for children: own session, the rabbitmq user and its groups, killed if the test process dies
    (the signal is armed after the user switch, which would clear it)."""
    entry = pwd.getpwnam(RUN_AS)
    parent = os.getpid()

    def setup():
        import ctypes
        os.setsid()
        os.initgroups(RUN_AS, entry.pw_gid)
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)
    return setup


@dataclass
class PrivateRabbit:
    base: str
    node: str
    amqp_port: int
    management_port: int
    dist_port: int
    epmd_port: int
    user: str = USER
    password: str = PASSWORD
    vhost: str = VHOST
    procs: list = field(default_factory=list)  # [epmd, broker]: the only processes teardown signals
    startup_s: float = 0.0

    @property
    def amqp_url(self) -> str:
        return (f"amqp://{quote(self.user, safe='')}:{quote(self.password, safe='')}@127.0.0.1:{self.amqp_port}/"
                f"{quote(self.vhost, safe='')}")

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}"

    def env(self) -> dict:
        """The environment of the broker and of rabbitmqctl calls against it: nothing from /etc/rabbitmq."""
        b = self.base
        return {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": b,  # its .erlang.cookie
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "RABBITMQ_CONF_ENV_FILE": f"{b}/rabbitmq-env.conf",
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_CONFIG_FILE": f"{b}/rabbitmq.conf",
            "RABBITMQ_ADVANCED_CONFIG_FILE": f"{b}/advanced.config",
            "RABBITMQ_CONFIG_FILES": f"{b}/conf.d",
            "RABBITMQ_MNESIA_BASE": f"{b}/mnesia",
            "RABBITMQ_LOG_BASE": f"{b}/log",
            "RABBITMQ_PID_FILE": f"{b}/rabbit.pid",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{b}/enabled_plugins",
            "RABBITMQ_PLUGINS_EXPAND_DIR": f"{b}/plugins-expand",
            # Without the script's signal-forwarding shell the started pid is the VM itself (erl execs it),
            # so the parent-death signal and our SIGTERM reach the broker directly.
            "RABBITMQ_ALLOW_INPUT": "1",
            "RABBITMQ_SERVER_START_ARGS": "-noinput",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}",
        }

    def ctl(self, *args: str, timeout: float = 60.0) -> str:
        """rabbitmqctl against this node only (its own name, epmd and cookie); stdout, or AssertionError."""
        ctl_port = free_port()
        env = {**self.env(), "RABBITMQ_CTL_DIST_PORT_MIN": str(ctl_port), "RABBITMQ_CTL_DIST_PORT_MAX": str(ctl_port)}
        done = subprocess.run([f"{RABBIT_SBIN}/rabbitmqctl", "-n", self.node, *args], env=env, cwd=self.base,
                              capture_output=True, text=True, timeout=timeout, preexec_fn=_as_rabbitmq())
        if done.returncode != 0:
            raise AssertionError(f"rabbitmqctl {' '.join(args)}: exit {done.returncode}: "
                                 f"{(done.stderr or done.stdout).strip()[-400:]}")
        return done.stdout

    def list_queues(self) -> dict[str, dict]:
        """The node's own view (rabbitmqctl), independent of the management API: name -> counts."""
        out = self.ctl("list_queues", "-p", self.vhost, "--no-table-headers", "--quiet",
                       "name", "messages_ready", "messages_unacknowledged", "consumers")
        rows = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 4:
                rows[parts[0]] = {"ready": int(parts[1]), "unacknowledged": int(parts[2]),
                                  "consumers": int(parts[3])}
        return rows

    def list_connections(self) -> list[dict]:
        out = self.ctl("list_connections", "--no-table-headers", "--quiet", "name", "user", "vhost")
        return [dict(zip(("name", "user", "vhost"), line.split("\t"))) for line in out.splitlines() if line.strip()]

    def log_tail(self, n: int = 30) -> str:
        lines: list[str] = []
        for root, _dirs, files in os.walk(f"{self.base}/log"):
            for name in sorted(files):
                with open(os.path.join(root, name), errors="replace") as f:
                    lines += f.read().splitlines()[-n:]
        try:
            with open(f"{self.base}/stdout.log", errors="replace") as f:
                lines += f.read().splitlines()[-n:]
        except OSError:
            pass
        return "\n".join(lines[-n:])


def _write_files(r: PrivateRabbit) -> None:
    b = r.base
    for sub in ("mnesia", "log", "conf.d", "plugins-expand"):
        os.makedirs(f"{b}/{sub}")
    with open(f"{b}/rabbitmq-env.conf", "w") as f:
        f.write("# deliberately empty: the system's /etc/rabbitmq/rabbitmq-env.conf names the machine's node\n")
    with open(f"{b}/enabled_plugins", "w") as f:
        f.write("[rabbitmq_management].\n")
    with open(f"{b}/rabbitmq.conf", "w") as f:
        f.write(f"""listeners.tcp.1 = 127.0.0.1:{r.amqp_port}
management.tcp.ip = 127.0.0.1
management.tcp.port = {r.management_port}
default_user = {r.user}
default_pass = {r.password}
default_vhost = {r.vhost}
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
loopback_users = none
# the management API's figures refresh at the statistics interval and at its finest sample interval
# (5 s and 5 s by default): tests wait less
collect_statistics_interval = 500
management.sample_retention_policies.global.minute = 1
management.sample_retention_policies.basic.minute = 1
management.sample_retention_policies.detailed.10 = 1
log.console = false
log.file.level = info
""")
    cookie = f"{b}/.erlang.cookie"
    with open(cookie, "w") as f:
        f.write(secrets.token_hex(20).upper())
    os.chmod(cookie, 0o400)
    entry = pwd.getpwnam(RUN_AS)
    for root, dirs, files in os.walk(b):
        for name in [root] + [os.path.join(root, d) for d in dirs] + [os.path.join(root, x) for x in files]:
            os.chown(name, entry.pw_uid, entry.pw_gid)
    os.chmod(b, 0o700)


def _wait(predicate, deadline: float, what: str, r: PrivateRabbit):
    while time.monotonic() < deadline:
        for proc in r.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{what}: pid {proc.pid} ({proc.args[0]}) exited {proc.returncode}\n"
                                   f"{r.log_tail()}")
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}\n{r.log_tail()}")


def _epmd_up(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _amqp_up(r: PrivateRabbit) -> bool:
    try:
        params = pika.URLParameters(r.amqp_url + "?connection_attempts=1&socket_timeout=2")
        pika.BlockingConnection(params).close()
        return True
    except pika.exceptions.AMQPError:
        return False


def _management_up(r: PrivateRabbit) -> bool:
    try:
        reply = requests.get(f"{r.management_url}/api/vhosts/{quote(r.vhost, safe='')}",
                             auth=(r.user, r.password), timeout=2)
        return reply.status_code == 200
    except requests.RequestException:
        return False


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def private_rabbitmq():
    """Starts the broker, yields a PrivateRabbit once AMQP and the management API both answer, then stops it
    (the VM, then its epmd, by pid) and removes its directory."""
    started = time.monotonic()
    amqp_port, management_port, dist_port, epmd_port = free_ports(4)
    r = PrivateRabbit(base=tempfile.mkdtemp(prefix="lc-rabbit-"), node=f"lc-test-{secrets.token_hex(4)}@localhost",
                      amqp_port=amqp_port, management_port=management_port, dist_port=dist_port,
                      epmd_port=epmd_port)
    try:
        _write_files(r)
        log = open(f"{r.base}/stdout.log", "ab")
        try:
            # Foreground epmd on its own port: our child, so teardown can signal it by pid.
            r.procs.append(subprocess.Popen([EPMD, "-port", str(epmd_port), "-address", "127.0.0.1"],
                                            env=r.env(), cwd=r.base, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, preexec_fn=_as_rabbitmq()))
            deadline = started + START_TIMEOUT_S
            _wait(lambda: _epmd_up(epmd_port), deadline, "epmd", r)
            r.procs.append(subprocess.Popen([f"{RABBIT_SBIN}/rabbitmq-server"], env=r.env(), cwd=r.base,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=_as_rabbitmq()))
        finally:
            log.close()
        _wait(lambda: _amqp_up(r), deadline, f"AMQP on 127.0.0.1:{amqp_port}", r)
        _wait(lambda: _management_up(r), deadline, f"management API on 127.0.0.1:{management_port}", r)
        r.startup_s = time.monotonic() - started
        yield r
    finally:
        # The VM is killed outright: its data goes with the directory, and a graceful stop takes 6 s.
        # Its own children (erl_child_setup, inet_gethost) end when it does; then its epmd.
        for proc in reversed(r.procs):
            _stop(proc, signal.SIGKILL if proc.args[0].endswith("rabbitmq-server") else signal.SIGTERM)
        shutil.rmtree(r.base, ignore_errors=True)


@pytest.fixture(scope="session")
def rabbitmq():
    """A private broker shared by a session's tests (start-up takes seconds); each test uses its own queues."""
    with private_rabbitmq() as r:
        print(f"\nprivate rabbitmq {r.node} ready in {r.startup_s:.1f}s "
              f"(amqp {r.amqp_port}, management {r.management_port})")
        yield r
