"""The target's ready check (`ready: {http: GET /ready, expect: 200}` in the profile), in one place: preflight,
`validate` and the embedded stack all ask it."""
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.common.http_json import http_json


def ready_status(profile, timeout: float = 5.0) -> tuple[str, int, object]:
    """(url, status, body) of the ready call; TargetUnreachable when nothing answers."""
    url = profile.control_host + profile.ready.path
    status, body = http_json(profile.ready.method, url, timeout=timeout)
    return url, status, body


def is_ready(profile, timeout: float = 1.0) -> bool:
    return profile.ready is None or ready_status(profile, timeout)[1] == profile.ready.expect


def check_ready(profile, timeout: float = 5.0) -> str | None:
    """Raises TargetUnreachable, located at the profile, unless the ready call answers what it expects; returns
    the URL checked (None when the profile has no ready check)."""
    if profile.ready is None:
        return None
    url = profile.control_host + profile.ready.path
    try:
        url, status, body = ready_status(profile, timeout)
    except TargetUnreachable as err:
        raise TargetUnreachable(f"{profile.source}: ready check {profile.ready.method} {err}") from None  # err: url: why
    if status != profile.ready.expect:
        problems = body.get("problems") if isinstance(body, dict) else None
        raise TargetUnreachable(f"{profile.source}: ready check {profile.ready.method} {url} answered {status}, "
                                f"not {profile.ready.expect}" + (f": {problems}" if problems else ""))
    return url
