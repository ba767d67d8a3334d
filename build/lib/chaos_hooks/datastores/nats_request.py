"""A minimal synchronous NATS request/reply client: enough to ask JetStream for a consumer's state.

The harness polls backlogs from gevent greenlets; an asyncio client would need its own loop and thread,
while the NATS text protocol for one request is a dozen lines (INFO, CONNECT, SUB, PUB, MSG).
"""
import json
import socket
import uuid
from urllib.parse import unquote, urlsplit


class NatsError(Exception):
    pass


def request(url: str, subject: str, payload: bytes = b"", timeout: float = 3.0) -> bytes:
    parts = urlsplit(url)
    if parts.scheme not in ("nats", "tcp"):
        raise NatsError(f"{url}: not a nats:// URL")
    try:
        sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=timeout)
    except OSError as err:
        raise NatsError(f"{parts.hostname}:{parts.port or 4222}: {err.strerror or err}") from None
    try:
        sock.settimeout(timeout)
        conn = _Conn(sock)
        info = conn.line()
        if not info.startswith(b"INFO "):
            raise NatsError(f"not a NATS server (it said {info[:40]!r})")
        if json.loads(info[5:]).get("tls_required"):
            raise NatsError("the server requires TLS, which this client does not speak")
        options = {"verbose": False, "pedantic": False, "lang": "python", "version": "0", "protocol": 1}
        if parts.username:
            options.update(user=unquote(parts.username), **({"pass": unquote(parts.password)} if parts.password
                                                              else {}))
        inbox = f"_INBOX.{uuid.uuid4().hex}"
        sock.sendall(f"CONNECT {json.dumps(options)}\r\nSUB {inbox} 1\r\n".encode()
                     + f"PUB {subject} {inbox} {len(payload)}\r\n".encode() + payload + b"\r\nPING\r\n")
        while True:
            line = conn.line()
            if line.startswith(b"MSG "):
                size = int(line.split()[-1])
                return conn.exact(size + 2)[:-2]
            if line == b"PING":
                sock.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise NatsError(line.decode(errors="replace"))
    except socket.timeout:
        raise NatsError(f"no answer to {subject} within {timeout:g}s") from None
    except OSError as err:
        raise NatsError(str(err)) from None
    finally:
        sock.close()


def jetstream_consumer(url: str, stream: str, consumer: str, timeout: float = 3.0) -> dict:
    """$JS.API.CONSUMER.INFO: the consumer's state (num_pending, num_ack_pending, ...)."""
    reply = json.loads(request(url, f"$JS.API.CONSUMER.INFO.{stream}.{consumer}", b"", timeout) or b"{}")
    if "error" in reply:
        err = reply["error"]
        raise NatsError(f"JetStream: {err.get('description', err)} (stream {stream}, consumer {consumer})")
    return reply


class _Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise NatsError("the server closed the connection")
        self.buf += chunk

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data
