"""RabbitMQ named by an amqp://user:pass@host:port/vhost URL: a queue's backlog, and closing connections.

Backlogs come from the management API (GET /api/queues/{vhost}/{name}: ready, unacknowledged, consumers),
which RabbitMQ refreshes every collect_statistics_interval (5 s by default), so its figures may lag by that much.
When no management API answers, an AMQP passive declare still gives ready and consumers (never unacknowledged).
Closing connections (the "connection kill" fault) needs the management API: DELETE /api/connections/{name}.

Every error is one line, and neither the AMQP nor the management password ever appears in it.
"""
from __future__ import annotations

import re
import socket
import ssl
from urllib.parse import quote, unquote, urlsplit

from chaos_hooks.common.lazy import lazy_module

pika = lazy_module("pika")
requests = lazy_module("requests")

TIMEOUT_S = 3.0
MANAGEMENT_PORT = 15672
HARNESS_CONNECTION = "locust-chaos"  # connection_name of the harness's own AMQP connections: never closed here
_URL_VHOST = object()  # close_connections' default: the URL's own vhost


class BrokerError(Exception):
    """RabbitMQ could not answer; the message says which broker and why, in one line without secrets."""


class _NoAnswer(Exception):
    """The management API did not answer at all (refused, timed out): the caller may fall back to AMQP."""


class AmqpBroker:
    def __init__(self, url: str, management: str | None = None, timeout: float = TIMEOUT_S):
        self.timeout = timeout
        self._secrets: list[str] = []
        try:
            parts = urlsplit(url)
        except ValueError as err:  # its text would show the URL, password and all
            raise BrokerError(f"amqp URL: cannot be parsed ({type(err).__name__})") from None
        self._remember(parts.password)
        if parts.scheme not in ("amqp", "amqps"):
            raise BrokerError(self._mask(f"{self._safe_url(parts)}: not an amqp:// or amqps:// URL"))
        try:
            self.port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
        except ValueError:
            raise BrokerError(self._mask(f"{self._safe_url(parts)}: bad port")) from None
        self.tls = parts.scheme == "amqps"
        self.host = parts.hostname or "localhost"
        self.user = unquote(parts.username or "guest")
        self.password = unquote(parts.password or "guest")
        # As pika reads it: no path or a bare "/" is the default vhost "/", else the unquoted rest ("%2F" is "/").
        self.vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
        self._management_base, self._management_auth = self._management(management)

    # -- the management API -------------------------------------------------------------------------------------

    def _management(self, management: str | None) -> tuple[str, tuple[str, str]]:
        if not management:
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"http://{host}:{MANAGEMENT_PORT}", (self.user, self.password)
        try:
            parts = urlsplit(management)
        except ValueError as err:
            raise BrokerError(f"management URL: cannot be parsed ({type(err).__name__})") from None
        self._remember(parts.password)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BrokerError(self._mask(f"management URL {self._safe_url(parts)}: not an http(s):// URL"))
        netloc = parts.netloc.rsplit("@", 1)[-1]
        auth = ((unquote(parts.username), unquote(parts.password or "")) if parts.username
                else (self.user, self.password))
        return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}", auth

    @property
    def management_address(self) -> str:
        return urlsplit(self._management_base).netloc

    def _request(self, method: str, path: str, **kw) -> requests.Response:
        where = f"rabbitmq management {self.management_address}"
        try:
            with requests.Session() as session:
                # No proxy from the environment: basic-auth credentials go to the broker, not through a proxy.
                session.trust_env = False
                return session.request(method, self._management_base + path, auth=self._management_auth,
                                       timeout=self.timeout, **kw)
        except (requests.ConnectionError, requests.Timeout) as err:
            raise _NoAnswer(self._mask(f"{where}: no answer ({_reason(err)})")) from None
        except requests.RequestException as err:
            raise BrokerError(self._mask(f"{where}: {_reason(err)}")) from None

    def _json(self, path: str, what: str):
        reply = self._request("GET", path)
        where = f"rabbitmq management {self.management_address}"
        if reply.status_code == 401:
            raise BrokerError(self._mask(f"{where}: user {self.user!r} refused (HTTP 401: wrong user or password, "
                                         f"or not a management user)"))
        if reply.status_code == 404:
            raise BrokerError(self._mask(f"{where}: {what} not found (HTTP 404)"))
        if reply.status_code != 200:
            raise BrokerError(self._mask(f"{where}: {what}: HTTP {reply.status_code} {_body_reason(reply)}"))
        try:
            return reply.json()
        except ValueError:
            raise BrokerError(self._mask(f"{where}: not a RabbitMQ management API (its answer to {path} "
                                         f"is not JSON)")) from None

    # -- AMQP ----------------------------------------------------------------------------------------------------

    def _parameters(self) -> pika.ConnectionParameters:
        return pika.ConnectionParameters(
            host=self.host, port=self.port, virtual_host=self.vhost,
            credentials=pika.PlainCredentials(self.user, self.password, erase_on_connect=False),
            connection_attempts=1, socket_timeout=self.timeout, stack_timeout=self.timeout,
            blocked_connection_timeout=self.timeout,
            ssl_options=pika.SSLOptions(ssl.create_default_context(), self.host) if self.tls else None,
            client_properties={"connection_name": HARNESS_CONNECTION})

    def _passive_declare(self, queue: str) -> dict:
        where = f"rabbitmq {self.address}"
        try:  # a plain connect first: pika logs a refused connection as ERROR with a traceback, every poll
            socket.create_connection((self.host, self.port), timeout=self.timeout).close()
        except OSError as err:
            raise BrokerError(self._mask(f"{where}: cannot connect ({err.strerror or err})")) from None
        try:
            conn = pika.BlockingConnection(self._parameters())
        except pika.exceptions.ProbableAuthenticationError:
            raise BrokerError(self._mask(f"{where}: user {self.user!r} refused (wrong user or password)")) from None
        except pika.exceptions.ProbableAccessDeniedError:
            raise BrokerError(self._mask(f"{where}: user {self.user!r} may not use vhost {self.vhost!r} "
                                         f"(or it does not exist)")) from None
        except Exception as err:  # pika's handshake timeouts are not AMQPErrors (a paused broker, say)
            raise BrokerError(self._mask(f"{where}: cannot connect ({_reason(err)})")) from None
        try:
            ok = conn.channel().queue_declare(queue, passive=True)
            return {"ready": ok.method.message_count, "unacknowledged": None,
                    "consumers": ok.method.consumer_count, "source": "amqp"}
        except pika.exceptions.ChannelClosedByBroker as err:
            raise BrokerError(self._mask(f"{where}: queue {queue!r} in vhost {self.vhost!r}: "
                                         f"{err.reply_text}")) from None
        except pika.exceptions.AMQPError as err:
            raise BrokerError(self._mask(f"{where}: queue {queue!r}: {_reason(err)}")) from None
        finally:
            if conn.is_open:
                conn.close()

    # -- what callers use ----------------------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def queue_backlog(self, queue: str) -> dict:
        """{ready, unacknowledged, consumers, source}: from the management API ("management"), or, when none
        answers or it has no figures for a just-made queue yet, an AMQP passive declare ("amqp", where
        unacknowledged is None: AMQP does not tell it)."""
        try:
            info = self._json(f"/api/queues/{quote(self.vhost, safe='')}/{quote(queue, safe='')}",
                              f"queue {queue!r} in vhost {self.vhost!r}")
        except _NoAnswer:
            return self._passive_declare(queue)
        if "messages_ready" not in info:
            return self._passive_declare(queue)
        return {"ready": int(info["messages_ready"]), "unacknowledged": int(info.get("messages_unacknowledged", 0)),
                "consumers": int(info.get("consumers", 0)), "source": "management"}

    def connections(self, vhost=_URL_VHOST) -> list[dict]:
        """The client connections the management API lists: of one vhost (the URL's by default), None: all."""
        vhost = self.vhost if vhost is _URL_VHOST else vhost
        path = "/api/connections" if vhost is None else f"/api/vhosts/{quote(vhost, safe='')}/connections"
        try:
            listed = self._json(path, "connections" if vhost is None else f"vhost {vhost!r}")
        except _NoAnswer as err:
            raise BrokerError(f"{err} (closing connections needs the management API)") from None
        if not isinstance(listed, list):
            raise BrokerError(self._mask(f"rabbitmq management {self.management_address}: {path} did not "
                                         f"answer a list"))
        return listed

    def close_connections(self, match=None, *, user: str | None = None, vhost=_URL_VHOST,
                          reason: str = "closed by locust-chaos") -> int:
        """Force-closes the client connections of `vhost` (the URL's by default; None: every vhost), only
        `user`'s when given, only those `match(connection_info)` accepts when given; never the harness's own.
        Returns how many it closed (one gone meanwhile is not counted)."""
        targets = [c for c in self.connections(vhost)
                   if (c.get("client_properties") or {}).get("connection_name") != HARNESS_CONNECTION
                   and (user is None or c.get("user") == user) and (match is None or match(c))]
        closed = 0
        for conn in targets:
            try:
                reply = self._request("DELETE", f"/api/connections/{quote(conn['name'], safe='')}",
                                      headers={"X-Reason": reason})
            except _NoAnswer as err:
                raise BrokerError(str(err)) from None
            if reply.status_code in (200, 204):
                closed += 1
            elif reply.status_code != 404:
                raise BrokerError(self._mask(f"rabbitmq management {self.management_address}: closing "
                                             f"{conn['name']!r}: HTTP {reply.status_code} {_body_reason(reply)}"))
        return closed

    # -- secrets -------------------------------------------------------------------------------------------------

    def _remember(self, raw: str | None) -> None:
        """Both spellings of a password: as written in the URL (percent-encoded) and decoded."""
        if raw:
            for secret in {raw, unquote(raw), quote(unquote(raw), safe="")}:
                if secret and secret not in self._secrets:
                    self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)  # the longest first, so no part of one is left showing

    def _mask(self, text: str) -> str:
        lines = str(text).strip().splitlines()
        text = lines[0] if lines else ""
        for secret in self._secrets:
            if len(secret) >= 8:
                text = text.replace(secret, "***")
            else:  # a short one only where it stands alone, or "b" would blank every b of the message
                text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
        return text

    @staticmethod
    def _safe_url(parts) -> str:
        netloc = parts.netloc.rsplit("@", 1)[-1]
        user = f"{parts.username}@" if parts.username else ""
        return f"{parts.scheme}://{user}{netloc}{parts.path}"


def _reason(err: BaseException) -> str:
    """The innermost cause of an exception in a few words: pika and requests wrap the socket error twice."""
    seen = set()
    while id(err) not in seen:
        seen.add(id(err))
        # urllib3 keeps it in .reason, pika's connector errors in .exception, others in args or __cause__
        held = [getattr(err, "reason", None), getattr(err, "exception", None), *err.args, err.__cause__]
        inner = next((e for e in held if isinstance(e, BaseException)), None)
        if inner is None:
            break
        err = inner
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _body_reason(reply: requests.Response) -> str:
    try:
        body = reply.json()
        text = str(body.get("reason") or body.get("error") or "") if isinstance(body, dict) else ""
    except ValueError:
        text = reply.text
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else ""
