"""Datastore faults, on what the target profile names:

    datastore.outage            a datastore server component killed (mode: kill) or paused (mode: pause);
                                healed by starting it again / SIGCONT
    redis.client_kill           CLIENT KILL of every normal client connection but the harness's own (instant)
    postgres.terminate_backends pg_terminate_backend of the system's sessions in that database (instant: the blip)
    postgres.lock_table         LOCK TABLE `table` IN ACCESS EXCLUSIVE MODE, held until the heal (a lost harness
                                connection releases it too)
"""
from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from chaos_hooks.common.lazy import lazy_module
from chaos_hooks.datastores.connections import HARNESS_APPLICATION, kind_of, one_line
from chaos_hooks.common.errors import ScenarioError, TargetUnreachable
from chaos_hooks.faults.registry import register
from chaos_hooks.faults.base import Fault
from chaos_hooks.faults.container import container_fault
from chaos_hooks.faults.process import ProcessKill, ProcessPause

psycopg = lazy_module("psycopg")
redis = lazy_module("redis")


@register
class DatastoreOutage(Fault):
    action = "datastore.outage"
    params = {"mode": "choice:kill,pause"}

    def __init__(self, spec, target):
        super().__init__(spec, target)
        pause = spec.params.get("mode") == "pause"
        # A container datastore is stopped (or paused) through Docker; a process one killed (or SIGSTOPped).
        self.way = container_fault(ProcessPause if pause else ProcessKill, spec, target, "pause" if pause else "stop") \
            or (ProcessPause if pause else ProcessKill)(spec, target)

    def describe(self) -> str:
        return f"outage of {self.spec.target}: {self.way.describe()}"

    def preflight(self) -> None:
        self.way.preflight()

    def inject(self) -> dict:
        return self.way.inject()

    def heal(self) -> None:
        self.way.heal()  # the very process it acted on, not a fresh look-up
        address = _server_address(self.target, self.spec.target)
        if address:
            _await_accepting(address, kind=kind_of(self.target.datastores.get(self.spec.target, "")))

    def heal_record(self) -> dict:
        address = _server_address(self.target, self.spec.target)
        return {"mode": self.spec.params.get("mode", "kill"), **self.way.heal_record(),
                **({"accepts": address, "kind": kind_of(self.target.datastores.get(self.spec.target, ""))}
                   if address else {})}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        """Healed once the process is back and, from outside, its server's port accepts a connection."""
        (ProcessPause if record.get("mode") == "pause" else ProcessKill).heal_from_record(record)
        if record.get("accepts"):
            _await_accepting(record["accepts"], kind=record.get("kind"))


def _server_address(target, name: str) -> str | None:
    """host:port of the server itself (behind its link, when the profile's URL goes through one)."""
    url = target.datastores.get(name)
    if url is None:
        return None
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return None
    address = f"{parts.hostname}:{parts.port}"
    for link in target.links.values():
        if link.get("listen") == address:
            return link.get("upstream")
    return address


# PostgreSQL accepts TCP while it is still starting up or recovering; these say it is not serving yet.
_PG_NOT_YET = ("starting up", "shutting down", "recovery", "connection refused", "could not connect",
               "server closed the connection")


def _serving(address: str, kind: str | None) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
        pass
    if kind != "postgresql":
        return True
    try:  # no credentials: an authentication refusal also means the server is up and serving
        psycopg.connect(f"postgresql://postgres@{address}/postgres", connect_timeout=2,
                        application_name=HARNESS_APPLICATION).close()
    except psycopg.Error as err:
        return not any(word in str(err).lower() for word in _PG_NOT_YET)
    return True


def _await_accepting(address: str, timeout: float = 30.0, kind: str | None = None) -> None:
    """Until the server's port accepts a connection (and PostgreSQL has finished starting up)."""
    deadline, delay = time.monotonic() + timeout, 0.05
    while True:
        try:
            if _serving(address, kind):
                return
            why = "still starting up"
        except OSError as err:
            why = err.strerror or str(err)
        if time.monotonic() + delay > deadline:
            raise TargetUnreachable(f"{address} does not serve after the heal: {why}")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


class _InstantFault(Fault):
    """A one-shot blow: nothing stays applied, so the heal has nothing to undo."""
    datastore_kind = ""

    def __init__(self, spec, target):
        super().__init__(spec, target)
        url = target.datastores.get(spec.target)
        if url is None or kind_of(url) != self.datastore_kind:
            have = ", ".join(n for n, u in target.datastores.items() if kind_of(u) == self.datastore_kind) or "none"
            raise ScenarioError(f"faults.{spec.name}.target: {spec.target!r} is not a {self.datastore_kind} "
                                f"datastore of {target.source} (its {self.datastore_kind} datastores: {have})")
        self.url = url

    def heal(self) -> None:
        pass

    def heal_record(self) -> dict:
        return {}

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        pass


@register
class RedisClientKill(_InstantFault):
    action = "redis.client_kill"
    datastore_kind = "redis"

    def describe(self) -> str:
        return f"CLIENT KILL every client of {self.spec.target} but the harness"

    def _client(self):
        return redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=3,
                                    client_name=HARNESS_APPLICATION)

    def preflight(self) -> None:
        try:
            self._client().ping()
        except redis.RedisError as err:
            raise TargetUnreachable(f"fault {self.spec.name}: {self.spec.target}: {one_line(err)}") from None

    def inject(self) -> dict:
        client = self._client()
        try:
            victims = [c["id"] for c in client.client_list(_type="normal")
                       if c.get("name") != HARNESS_APPLICATION]
            for client_id in victims:
                client.execute_command("CLIENT", "KILL", "ID", client_id)
        finally:
            client.close()
        return {"connections_killed": len(victims)}


class _PostgresFault(_InstantFault):
    datastore_kind = "postgresql"

    def _connect(self):
        try:
            return psycopg.connect(self.url, connect_timeout=5, autocommit=True, application_name=HARNESS_APPLICATION)
        except psycopg.Error as err:
            raise TargetUnreachable(f"fault {self.spec.name}: {self.spec.target}: {one_line(err)}") from None

    def preflight(self) -> None:
        self._connect().close()


@register
class PostgresTerminateBackends(_PostgresFault):
    action = "postgres.terminate_backends"

    def describe(self) -> str:
        return f"pg_terminate_backend of every session of the system on {self.spec.target}"

    def inject(self) -> dict:
        with self._connect() as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND datname = current_database() AND backend_type = 'client backend' "
                "AND application_name <> %s", (HARNESS_APPLICATION,)).fetchone()[0]
        return {"sessions_terminated": killed}


@register
class PostgresLockTable(_PostgresFault):
    action = "postgres.lock_table"
    params = {"table": "str"}

    def __init__(self, spec, target):
        super().__init__(spec, target)
        if "table" not in spec.params:
            raise ScenarioError(f"faults.{spec.name}.table: is required (the table to lock)")
        self.conn = None

    def describe(self) -> str:
        return f"LOCK TABLE {self.spec.params['table']} on {self.spec.target} until the heal"

    def inject(self) -> dict:
        self.conn = self._connect()
        self.conn.autocommit = False
        name = psycopg.sql.SQL(".").join(psycopg.sql.Identifier(p) for p in self.spec.params["table"].split("."))
        try:
            self.conn.execute("SET LOCAL lock_timeout = '5s'")
            self.conn.execute(psycopg.sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(name))
        except psycopg.Error as err:
            self.heal()
            raise TargetUnreachable(f"cannot lock {self.spec.params['table']}: {one_line(err)}") from None
        return {}

    def heal(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.rollback()
            conn.close()
