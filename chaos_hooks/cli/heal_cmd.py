"""`locust-chaos heal`: heal what crashed runs left applied and remove what their dead stacks left behind."""
import os

from chaos_hooks.control import lost_runs
from chaos_hooks.control.journal import Journal
from chaos_hooks.common.home import state_dir
from chaos_hooks.stack import running_stacks as registry


EXIT_CODES = ("Exit codes: 0 done (what was healed or removed is listed, or there was nothing to heal); "
              "3 it could not finish (one line saying why).")


def add_to(sub) -> None:
    p = sub.add_parser("heal", help="heal faults a crashed run left applied; clean up after dead stacks",
                       description="Heals every fault the journal says is still applied (unless the run that "
                                   "applied it still runs), writes an interrupted verdict into the report "
                                   "directory of every run whose master died before its verdict, and stops "
                                   "and removes what embedded stacks whose owner died left behind (by the pids "
                                   "and directories they recorded).",
                       epilog=EXIT_CODES)
    p.set_defaults(func=run)


def run(args) -> int:
    from chaos_hooks.cli.console import say
    journal = Journal(os.path.join(state_dir(), "journal.jsonl"))
    done = registry.reclaim_orphans() + journal.heal_pending(progress=say)
    for verdict in lost_runs.settle(journal, lambda run: lost_runs.found_lost(run, "`locust-chaos heal`")):
        done.append(f"run {verdict['run_id']} ({verdict['scenario']}): its master was lost before its verdict; "
                    f"wrote an interrupted verdict to {verdict['report_dir']}")
    print("\n".join(done) if done else f"nothing to heal ({journal.path})")
    if journal.failed:  # a heal is journaled only once checked from outside: these are still applied
        say(f"locust-chaos: error: {len(journal.failed)} fault(s) still applied: "
            + "; ".join(line.split(": heal failed")[0] for line in journal.failed))
        return 3
    return 0
