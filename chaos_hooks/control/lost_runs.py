"""A run whose master died before its verdict (SIGKILL, OOM, a crash) still gets one: status "interrupted"
(overall unknown, exit 3), every invariant undecided — the history went with the master — and the faults as
the journal knows them, written into the run's own report directory. Whoever finds the run writes it, after
healing what it left applied: `locust-chaos run` (which saw the master die and how), `locust-chaos heal`, or
the next run's preflight. A report directory that already holds a verdict is never overwritten."""
import os
import time

from chaos_hooks.control.journal import Journal
from chaos_hooks.history.store import HistoryStore
from chaos_hooks.report import write_report

UNDECIDED = "undecided: the run's master was lost before verification; its history went with it"


def run_record(ctl) -> dict:
    """What the journal keeps of a starting run, so a verdict can be written without it."""
    return {"run_id": ctl.run_id, "report_dir": os.path.abspath(ctl.report_dir), "scenario": ctl.scenario.name,
            "system": ctl.profile.system, "target": ctl.profile.source, "host": ctl.profile.host,
            "values": ctl.values, "seed": ctl.seed, "nemesis_seed": ctl.nemesis_seed,
            "started_at": ctl.scheduler.t0_wall, "invariants": list(ctl.scenario.invariants),
            "faults": ctl.scheduler.report()}


def settle(journal: Journal, why, owner_pid: int | None = None, at: float | None = None) -> list[dict]:
    """Writes the interrupted verdict of every lost run (only those of owner_pid when given); returns them.
    why(run) -> the reason; at: when the master was lost, when known. Heal the journal first: the verdict
    shows each fault's heal."""
    written = []
    for run in journal.lost_runs():
        if owner_pid is not None and run.get("owner_pid") != owner_pid:
            continue
        report_dir = run["report_dir"]
        if os.path.exists(os.path.join(report_dir, "verdict.json")):  # it wrote its verdict and died after
            journal.run_ended(run["run_id"])
            continue
        verdict = lost_verdict(run, journal.entries_of(run), why(run), at)
        write_report(report_dir, verdict, {}, HistoryStore())
        journal.run_ended(run["run_id"], "run-lost")
        written.append(verdict)
    return written


def lost_verdict(run: dict, entries: list[dict], why: str, at: float | None) -> dict:
    t0 = run.get("started_at")
    return {
        "scenario": run["scenario"], "system": run.get("system"), "target": run.get("target"),
        "host": run.get("host"), "run_id": run["run_id"], "values": run.get("values", {}), "seed": run.get("seed"),
        "status": "interrupted", "passed": False, "overall": "unknown",
        "interrupted": {"at": at, "at_s": round(at - t0, 3) if at and t0 else None, "why": why},
        "invariants": [{"name": name, "status": "unknown", "passed": False, "summary": UNDECIDED, "figure": None}
                       for name in run.get("invariants", [])],
        "history": {}, "faults": _faults(run, entries), "nemesis_seed": run.get("nemesis_seed"), "phases": [],
        "catch_up_s": None, "workers": 0, "history_complete": False, "lost_workers": [],
        "missing_history_from": [], "reads_failed": {}, "harness_problems": [why], "partial": True,
        "started_at": t0, "load_ended_at": None, "report_dir": run["report_dir"],
    }


def _faults(run: dict, entries: list[dict]) -> list[dict]:
    """The run's faults with the journal's times: an intent is written the moment before the fault acts."""
    t0 = run.get("started_at") or 0.0
    intents = {e["name"]: e for e in entries if e.get("op") == "intent"}
    closed = {e["id"]: e for e in entries if e.get("op") != "intent"}
    faults = []
    for f in run.get("faults", []):
        intent = intents.get(f["name"])
        close = closed.get(intent["id"]) if intent else None
        error = None
        if intent and close is None:
            error = "still applied: its heal failed (see `locust-chaos heal`)"
        elif close is not None and close.get("op") == "moot":
            error = "not healed: its target was gone"
        faults.append({**f, "injected_at": round(intent["ts"] - t0, 3) if intent else None,
                       "healed_at": round(close["ts"] - t0, 3) if close else None, "error": error})
    return faults


def lost_reason(pid: int, how: str, at: float) -> str:
    """'master lost (pid 4242, SIGKILL) at 2026-12-03 22:51:07 UTC'."""
    return f"master lost (pid {pid}, {how}) at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(at))}"


def found_lost(run: dict, by: str) -> str:
    """The reason when nobody saw the master die: 'master lost (pid 4242) before its verdict; found by ...'."""
    return f"master lost (pid {run.get('owner_pid')}) before its verdict; found by {by}"
