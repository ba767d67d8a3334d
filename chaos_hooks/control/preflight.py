"""Before any load: leftovers of crashed runs healed (orphaned stack processes reclaimed, journaled faults
healed, runs that lost their master given an interrupted verdict), the target's ready check answered, and every
fault applicable."""
import logging

from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.control import lost_runs
from chaos_hooks.control.journal import Journal
from chaos_hooks.stack import running_stacks as registry
from chaos_hooks.targets.ready import check_ready

log = logging.getLogger("locust_chaos.preflight")


def preflight(profile, journal: Journal, faults=()) -> None:
    """Leftovers of crashed runs healed, the target ready and every fault applicable — before any load."""
    for line in registry.reclaim_orphans():
        log.info("preflight: %s", line)
    for line in journal.heal_pending():  # a record that failed before is tried again here
        log.info("preflight: %s", line)
    for verdict in lost_runs.settle(journal, lambda run: lost_runs.found_lost(run, "the next run's preflight")):
        log.warning("preflight: run %s lost its master before its verdict; wrote an interrupted verdict to %s",
                    verdict["run_id"], verdict["report_dir"])
    if journal.failed:  # never run on top of a fault still applied, and never silently
        raise TargetUnreachable(f"preflight: {len(journal.failed)} fault(s) of an earlier run still applied: "
                                f"{'; '.join(journal.failed)} (fix the cause, then `locust-chaos heal`)")
    check_ready(profile)
    for fault in faults:
        fault.preflight()
