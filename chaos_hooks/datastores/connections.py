"""Connections to the datastores a target profile names (postgresql://, redis://, nats://, amqp://), made lazily and
dropped after an error so the next use reconnects (the datastore may be what a fault just took away)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from chaos_hooks.common.lazy import lazy_module
from chaos_hooks.datastores import nats_request
from chaos_hooks.datastores.amqp_broker import AmqpBroker, BrokerError

psycopg = lazy_module("psycopg")
redis = lazy_module("redis")

SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "redis": "redis", "rediss": "redis",
           "amqp": "amqp", "amqps": "amqp",
           "nats": "nats"}
TIMEOUT_S = 3.0
HARNESS_APPLICATION = "locust-chaos"  # the harness's own PostgreSQL sessions, which faults leave alone


class ReadFailed(Exception):
    """A datastore or endpoint could not answer a read; the message says which and why, in one line.
    `unreachable`: it could not even be reached (no connection), as opposed to answering with an error."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


def kind_of(url: str) -> str | None:
    return SCHEMES.get(urlsplit(url).scheme)


def address(url: str) -> str:
    """host:port of a datastore URL, without credentials."""
    netloc = urlsplit(url).netloc
    return netloc.rsplit("@", 1)[-1]


def one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


class Datastores:
    def __init__(self, urls: dict[str, str]):
        self.urls = urls
        self._redis: dict[str, redis.Redis] = {}
        self._pg: dict[str, psycopg.Connection] = {}
        self._amqp: dict[str, AmqpBroker] = {}

    def kind(self, name: str) -> str:
        return kind_of(self.urls[name])

    def redis(self, name: str) -> redis.Redis:
        client = self._redis.get(name)
        if client is None:
            client = redis.Redis.from_url(self.urls[name], socket_timeout=TIMEOUT_S,
                                          socket_connect_timeout=TIMEOUT_S, client_name=HARNESS_APPLICATION)
            self._redis[name] = client
        return client

    def redis_call(self, name: str, fn):
        try:
            return fn(self.redis(name))
        except redis.RedisError as err:
            self._redis.pop(name, None)
            raise ReadFailed(f"redis {address(self.urls[name])}: {one_line(err)}",
                             unreachable=isinstance(err, (redis.ConnectionError, redis.TimeoutError))) from None

    def pg(self, name: str) -> psycopg.Connection:
        conn = self._pg.get(name)
        if conn is None or conn.closed:
            conn = psycopg.connect(self.urls[name], connect_timeout=int(TIMEOUT_S), autocommit=True,
                                   options="-c statement_timeout=60000", application_name=HARNESS_APPLICATION)
            self._pg[name] = conn
        return conn

    def pg_call(self, name: str, fn):
        try:
            conn = self.pg(name)
        except psycopg.Error as err:
            raise ReadFailed(f"postgresql {address(self.urls[name])}: {one_line(err)}", unreachable=True) from None
        try:
            return fn(conn)
        except psycopg.Error as err:
            conn = self._pg.pop(name, None)
            if conn is not None:
                conn.close()
            raise ReadFailed(f"postgresql {address(self.urls[name])}: {one_line(err)}") from None

    def nats_consumer(self, name: str, stream: str, consumer: str) -> dict:
        try:
            return nats_request.jetstream_consumer(self.urls[name], stream, consumer, TIMEOUT_S)
        except (nats_request.NatsError, ValueError) as err:
            raise ReadFailed(f"nats {address(self.urls[name])}: {one_line(err)}") from None

    def amqp(self, name: str) -> AmqpBroker:
        """A RabbitMQ broker from its amqp:// URL; `?management=http://host:port` names its management API
        (default: the same host, port 15672, the same credentials)."""
        broker = self._amqp.get(name)
        if broker is None:
            url, _, query = self.urls[name].partition("?")
            management = parse_qs(query).get("management", [None])[0]
            try:
                broker = AmqpBroker(url, management, timeout=TIMEOUT_S)
            except BrokerError as err:
                raise ReadFailed(f"rabbitmq: {err}") from None
            self._amqp[name] = broker
        return broker

    def amqp_call(self, name: str, fn):
        try:
            return fn(self.amqp(name))
        except BrokerError as err:
            raise ReadFailed(str(err)) from None

    def close(self) -> None:
        for conn in self._pg.values():
            conn.close()
        for client in self._redis.values():
            client.close()
        self._pg.clear()
        self._redis.clear()
