"""Before any load: leftovers of crashed runs healed (orphaned stack processes reclaimed, journaled faults
healed), the target's ready check answered, and every fault applicable."""
import logging

from chaos_hooks.control.journal import Journal
from chaos_hooks.stack import running_stacks as registry
from chaos_hooks.targets.ready import check_ready

log = logging.getLogger("locust_chaos.preflight")


def preflight(profile, journal: Journal, faults=()) -> None:
    """Leftovers of crashed runs healed, the target ready and every fault applicable — before any load."""
    for line in registry.reclaim_orphans():
        log.info("preflight: %s", line)
    for line in journal.heal_pending():
        log.info("preflight: %s", line)
    check_ready(profile)
    for fault in faults:
        fault.preflight()
