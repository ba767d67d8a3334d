"""Before any load: leftovers of crashed runs healed (orphaned stack processes reclaimed, journaled faults
healed), the target's ready check answered, and every fault applicable."""
import logging

from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.common.http_json import http_json
from chaos_hooks.control.journal import Journal
from chaos_hooks.stack import running_stacks as registry

log = logging.getLogger("locust_chaos.preflight")


def ready_check(profile) -> None:
    """The profile's `ready:` call answers what it expects (the one place the ready check is made)."""
    if profile.ready is None:
        return
    url = profile.control_host + profile.ready.path
    try:
        status, body = http_json(profile.ready.method, url)
    except TargetUnreachable as err:
        raise TargetUnreachable(f"{profile.source}: ready check {profile.ready.method} {url}: {err}") from None
    if status != profile.ready.expect:
        problems = body.get("problems") if isinstance(body, dict) else None
        raise TargetUnreachable(f"{profile.source}: ready check {profile.ready.method} {url} answered {status}, "
                                f"not {profile.ready.expect}" + (f": {problems}" if problems else ""))


def preflight(profile, journal: Journal, faults=()) -> None:
    """Leftovers of crashed runs healed, the target ready and every fault applicable — before any load."""
    for line in registry.reclaim_orphans():
        log.info("preflight: %s", line)
    for line in journal.heal_pending():  # a record that failed before is tried again here
        log.info("preflight: %s", line)
    if journal.failed:  # never run on top of a fault still applied, and never silently
        raise TargetUnreachable(f"preflight: {len(journal.failed)} fault(s) of an earlier run still applied: "
                                f"{'; '.join(journal.failed)} (fix the cause, then `locust-chaos heal`)")
    ready_check(profile)
    for fault in faults:
        fault.preflight()
