"""JSON over HTTP to the system under test and the fault proxy: (status, body), or TargetUnreachable.
requests does the HTTP: credentials in the URL (http://user:pass@host/...) become basic auth."""
from __future__ import annotations

from chaos_hooks.common.lazy import lazy_module
from chaos_hooks.common.errors import TargetUnreachable

requests = lazy_module("requests")


def http_json(method: str, url: str, body=None, timeout: float = 5.0) -> tuple[int, object]:
    """The body is None for an empty or non-JSON answer; any answer at all, 4xx and 5xx too, is not an error."""
    try:
        resp = requests.request(method, url, json=body, timeout=timeout)
    except requests.RequestException as err:
        raise TargetUnreachable(f"{_without_userinfo(url)}: {_reason(err)}") from None
    try:
        return resp.status_code, (resp.json() if resp.content else None)
    except ValueError:
        return resp.status_code, None


def _without_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}{sep}{host.rsplit('@', 1)[-1]}{slash}{path}"


def _reason(err: requests.RequestException) -> str:
    """One line: the innermost cause (connection refused, timed out), not urllib3's nested repr."""
    cause = err
    while cause.__cause__ is not None or (cause.args and isinstance(cause.args[0], BaseException)):
        cause = cause.__cause__ or cause.args[0]
    if isinstance(err, requests.Timeout):
        return "timed out"
    text = str(cause)
    if "Connection refused" in text:
        return "connection refused"
    return text.split(": ", 1)[-1][:200] if text else type(err).__name__
