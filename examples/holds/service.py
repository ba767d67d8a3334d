"""How the holds service's owner runs it on one machine — its own Redis and PostgreSQL, the API and the worker,
each writing a pidfile under /tmp/holds — on fixed ports the machine's own services do not use:

    python -m examples.holds.service up      # API http://127.0.0.1:18080, Redis :16380, PostgreSQL :15433
    python -m examples.holds.service down    # stops what `up` started, by pidfile

Nothing here knows locust-chaos: target.yaml beside this file is what tells the harness where things are.
"""
import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import psycopg

HOME = "/tmp/holds"
API_PORT, REDIS_PORT, PG_PORT = 18080, 16380, 15433
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:{PG_PORT}/holds"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        sys.exit("holds: PostgreSQL's server binaries are not installed (apt-get install postgresql)")
    return os.path.dirname(found[-1])


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _wait(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        except psycopg.Error:
            pass
        time.sleep(0.1)
    sys.exit(f"holds: {what} did not come up within {timeout:g}s (logs in {HOME})")


def _spawn(argv, name: str, env=None, user=None) -> None:
    log = open(os.path.join(HOME, f"{name}.log"), "ab")
    subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True,
                     user=user)


def up() -> None:
    busy = [p for p in (API_PORT, REDIS_PORT, PG_PORT) if not _port_free(p)]
    if busy:
        sys.exit(f"holds: port(s) {', '.join(map(str, busy))} already in use (is it up already? `down` first)")
    os.makedirs(HOME, exist_ok=True)
    _spawn(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--dir", HOME, "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--pidfile", f"{HOME}/redis.pid"], "redis")
    pg_user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
    data = os.path.join(HOME, "pg")
    if not os.path.isdir(data):
        os.makedirs(data)
        if pg_user:
            shutil.chown(data, pg_user)
        subprocess.run([f"{_pg_bin()}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--locale=C"], check=True, stdout=subprocess.DEVNULL, user=pg_user)
    if pg_user:
        shutil.chown(HOME, pg_user)
    _spawn([f"{_pg_bin()}/postgres", "-D", data, "-p", str(PG_PORT), "-k", HOME, "-c",
            "listen_addresses=127.0.0.1"], "postgres", user=pg_user)
    admin = f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres"
    _wait(lambda: psycopg.connect(admin, connect_timeout=1).close() or True, "PostgreSQL")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'holds'").fetchone():
            conn.execute("CREATE DATABASE holds")
    env = dict(os.environ, HOLDS_REDIS_URL=REDIS_URL, HOLDS_DATABASE_URL=DATABASE_URL)
    _spawn([sys.executable, "-m", "examples.holds.worker", "--pidfile", f"{HOME}/worker.pid"], "worker", env)
    _spawn([sys.executable, "-m", "examples.holds.api", "--port", str(API_PORT), "--pidfile", f"{HOME}/api.pid"],
           "api", env)
    _wait(lambda: not _port_free(API_PORT) and os.path.exists(f"{HOME}/worker.pid"), "the API and the worker")
    print(f"holds: up — API http://127.0.0.1:{API_PORT}, Redis {REDIS_URL}, PostgreSQL {DATABASE_URL}")


def _pid(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """Still running: a zombie has exited (its stat state is Z) and only waits for init to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def down() -> None:
    for name, pidfile, sig in (("api", "api.pid", signal.SIGTERM), ("worker", "worker.pid", signal.SIGTERM),
                               ("postgres", "pg/postmaster.pid", signal.SIGINT), ("redis", "redis.pid", signal.SIGTERM)):
        pid = _pid(os.path.join(HOME, pidfile))
        if pid is None:
            continue
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        print(f"holds: stopped {name} (pid {pid})")
    shutil.rmtree(HOME, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    {"up": up, "down": down}[parser.parse_args().action]()


if __name__ == "__main__":
    main()
