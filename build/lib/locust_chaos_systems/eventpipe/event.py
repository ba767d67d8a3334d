"""What a valid event is: checked by the ingest before publishing and by the consumer before inserting.

Anything PostgreSQL would refuse (a NUL character, a seq beyond bigint, NaN in JSON) is refused
up front: a message the consumer cannot insert would be retried forever and stall its stream.
"""
import json

MAX_KEY_LEN = 200
MAX_SEQ = 2**63 - 1  # bigint


def event_id(stream_key: str, seq: int) -> str:
    """Also the Nats-Msg-Id, so JetStream drops a client's retry of the same event."""
    return f"{stream_key}:{seq}"


def problem(body) -> str | None:
    """Why `body` is not a valid event, or None."""
    if not isinstance(body, dict):
        return "body must be a JSON object {stream_key, seq, payload}"
    key, seq = body.get("stream_key"), body.get("seq")
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LEN or "\x00" in key:
        return f"stream_key must be a non-empty string of at most {MAX_KEY_LEN} characters"
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ:
        return "seq must be an integer >= 0"
    payload = body.get("payload")
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError):
        return "payload must be plain JSON (no NaN or Infinity)"
    if _has_nul(payload):
        return "payload must not contain NUL characters (jsonb cannot store them)"
    return None


def encode(stream_key: str, seq: int, payload) -> bytes:
    return json.dumps({"stream_key": stream_key, "seq": seq, "payload": payload},
                      separators=(",", ":"), allow_nan=False).encode()


def decode(data: bytes) -> dict:
    """The event in a message body; ValueError when it is not a valid one."""
    body = json.loads(data)
    why = problem(body)
    if why:
        raise ValueError(why)
    return body


def _has_nul(value) -> bool:
    stack = [value]  # iterative: a deeply nested payload must not hit the recursion limit
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
