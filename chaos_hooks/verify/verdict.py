"""The verdict of one run, in one place: its overall status, the dict every output is written from
(terminal, verdict.json, junit.xml, report.html, the Chaos tab) and the exit code.

    0  every invariant valid and the run went as planned
    1  an invariant is invalid (and only then)
    3  undecided: an invariant unknown, the run interrupted, or the harness could not do its part
"""
import os
import time

from chaos_hooks.invariants import INVALID, UNKNOWN, VALID
from chaos_hooks.verify.phases import phases
from chaos_hooks.verify.verification import history_counts

EXIT_PASSED, EXIT_INVALID, EXIT_UNDECIDED = 0, 1, 3
INTERRUPTED = "interrupted"  # a run status (never an invariant's): stopped early, so it never passes


def overall(results, problems: list[str]) -> str:
    statuses = {r.status for r in results}
    if problems:
        return UNKNOWN
    if INVALID in statuses:
        return INVALID
    if UNKNOWN in statuses or not results:
        return UNKNOWN
    return VALID


def build_verdict(run, history, results, reads, seen, problems: list[str], partial: bool = False) -> dict:
    """run: the controller's facts (scenario, profile, run_id, values, seeds, scheduler, store, workers)."""
    status = overall(results, problems)
    interrupted = getattr(run, "interrupted", None)
    if interrupted is not None:
        status = INTERRUPTED
    complete = [s for s in run.sources if s not in run.lost]
    t0 = run.scheduler.t0_wall
    return {
        "scenario": run.scenario.name, "system": run.profile.system, "target": run.profile.source,
        "host": run.profile.host, "run_id": run.run_id, "values": run.values, "seed": run.seed,
        "status": status, "passed": status == VALID and not partial,
        "overall": UNKNOWN if status == INTERRUPTED else status,
        "interrupted": _interrupted(interrupted, t0),
        "invariants": [r.to_dict() for r in results],
        "history": history_counts(history, reads) if reads is not None else {"ops": history.n},
        "faults": run.scheduler.report(), "nemesis_seed": run.nemesis_seed,
        "phases": phases(run.store.columns(), run.fault_windows(), t0 or 0.0,
                         run.load_ended_at or time.time()) if t0 else [],
        "catch_up_s": round(seen.seconds, 3) if seen is not None and seen.seconds is not None else None,
        "catch_up_note": seen.reason if seen is not None and seen.seconds is None else "",
        "workers": len(complete), "history_complete": not run.lost,
        "lost_workers": [{"node": n, **v} for n, v in sorted(run.lost.items())],
        "missing_history_from": sorted(run.lost),
        "reads_failed": reads.failures() if reads is not None else {},
        "harness_problems": problems, "partial": partial,
        "started_at": t0, "load_ended_at": run.load_ended_at,
        "report_dir": os.path.abspath(run.report_dir),
    }


def _interrupted(what: dict | None, t0: float | None) -> dict | None:
    """{at: wall time, at_s: seconds into the run, why}."""
    if what is None:
        return None
    return {"at": what["at"], "at_s": round(what["at"] - t0, 3) if t0 else None, "why": what["why"]}


def exit_code(verdict: dict | None) -> int:
    if verdict is not None and verdict["status"] == INTERRUPTED:
        # A finding made before the stop (a guard's invalid figure) still fails; otherwise undecided.
        invalid = any(i["status"] == INVALID for i in verdict["invariants"])
        return EXIT_INVALID if invalid else EXIT_UNDECIDED
    if verdict is None or verdict["harness_problems"]:
        return EXIT_UNDECIDED
    return {VALID: EXIT_PASSED, UNKNOWN: EXIT_UNDECIDED}.get(verdict["status"], EXIT_INVALID)
