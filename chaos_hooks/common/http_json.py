"""JSON over HTTP to the system under test and the fault proxy: (status, body), or TargetUnreachable."""
import json
import urllib.error
import urllib.request

from chaos_hooks.common.errors import TargetUnreachable


def http_json(method: str, url: str, body=None, timeout: float = 5.0) -> tuple[int, object]:
    """The body is None for an empty or non-JSON answer; any answer at all, 4xx and 5xx too, is not an error."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        try:
            return err.code, json.loads(err.read() or b"null")
        except ValueError:
            return err.code, None
    except (urllib.error.URLError, OSError) as err:
        raise TargetUnreachable(f"{url}: {getattr(err, 'reason', err)}") from None
