"""What a run looks like right now, as JSON (GET /chaos/state and the Chaos tab): the scenario and its timeline
before the start; each fault's state (scheduled, active with the seconds left, healed, failed), probes and
guards while it runs, with per-second series for the charts; the verdict and a link to the report after."""
import time

from chaos_hooks.report.terminal import HEADLINE, MARK
from chaos_hooks.report.timeseries import per_second, windows

# The badge colours of report.html (.valid, .invalid, .unknown); an interrupted run is undecided too.
COLOURS = {"valid": "#2a7", "invalid": "#c33", "unknown": "#d90", "interrupted": "#d90"}


def badge(verdict: dict) -> dict:
    """The verdict in the terminal's and report.html's words (PASSED, FAILED, ...) and report.html's colour;
    INTERRUPTED when the run stopped before its verification finished."""
    if verdict.get("interrupted") or verdict.get("partial") or verdict.get("status") == "interrupted":
        return {"text": "INTERRUPTED", "kind": "interrupted", "colour": COLOURS["interrupted"]}
    status = verdict["status"]
    return {"text": HEADLINE.get(status, str(status).upper()), "kind": status, "colour": COLOURS.get(status, "#777")}


def _invariant(inv: dict) -> dict:
    return {**inv, "mark": MARK.get(inv["status"], str(inv["status"]).upper()),
            "colour": COLOURS.get(inv["status"], "#777")}


def _fault_state(rec, t0: float | None, now: float) -> dict:
    state = "scheduled"
    left = None
    if rec.error:
        state = "failed"
    elif rec.healed_at:
        state = "healed"
    elif rec.injected_at:
        state = "active"
        if rec.heal_after_s is not None and t0:
            left = round(max(t0 + rec.at_s + rec.heal_after_s - now, 0.0), 1)
    rel = (lambda t: round(t - t0, 3) if t and t0 else None)
    return {"name": rec.name, "action": rec.action, "target": rec.target, "state": state, "at_s": rec.at_s,
            "heal_after_s": rec.heal_after_s, "seconds_left": left, "injected_at": rel(rec.injected_at),
            "healed_at": rel(rec.healed_at), "error": rec.error}


def _guard(spec, figure, tripped) -> dict:
    """A guard's latest figure against its limit: the share or latency over its window, or for a probe guard
    the probe's failures in a row."""
    what = f"{spec.probe} failures in a row" if spec.kind == "probe" else f"{spec.kind} over {spec.window:g}s"
    limit = spec.failures if spec.kind == "probe" else spec.threshold
    return {"name": spec.name, "kind": spec.kind, "what": what, "limit": limit, "figure": figure,
            "tripped": tripped}


def before_run(scenario) -> dict:
    """The scenario picked, before any run: its timeline, every fault scheduled."""
    seed = scenario.nemesis.seed if scenario.nemesis is not None else None
    return {"scenario": scenario.name, "description": " ".join(scenario.description.split()), "running": False,
            "faults": [{"name": f.name, "action": f.action, "target": f.target, "state": "scheduled",
                        "at_s": f.at, "heal_after_s": f.heal_after, "seconds_left": None, "injected_at": None,
                        "healed_at": None, "error": None} for f in sorted(scenario.timeline(seed), key=lambda f: f.at)],
            "probes": [{"name": p.name, "value": None} for p in scenario.probes],
            "guards": [_guard(g, None, None) for g in scenario.guards],
            "verdict": None, "series": None, "windows": []}


def of_run(ctl) -> dict:
    now = time.time()
    t0 = ctl.scheduler.t0_wall
    faults = [_fault_state(r, t0, now) for r in sorted(ctl.scheduler.records.values(), key=lambda r: r.at_s)]
    verdict = ctl.verdict
    end = (ctl.load_ended_at or now) if t0 else now
    return {
        "scenario": ctl.scenario.name, "description": " ".join(ctl.scenario.description.split()),
        "run_id": ctl.run_id, "running": verdict is None, "elapsed_s": round(end - t0, 1) if t0 else 0.0,
        "nemesis_seed": ctl.nemesis_seed, "faults": faults,
        "probes": [{"name": p.name, "value": (ctl.probes.latest(p.name) or (None, None))[1]}
                   for p in ctl.scenario.probes],
        "guards": [_guard(g, ctl.guards.figures.get(g.name), ctl.guards.tripped.get(g.name))
                   for g in ctl.scenario.guards],
        "verdict": None if verdict is None else {
            "status": verdict["status"], "badge": badge(verdict), "interrupted": verdict.get("interrupted"),
            "invariants": [_invariant(i) for i in verdict["invariants"]],
            "harness_problems": verdict["harness_problems"], "report": "./chaos/report"},
        "series": per_second(ctl.store.columns(), t0, end) if t0 else None,
        "windows": windows(faults),
    }


def rows(state: dict) -> list[dict]:
    """The same state as table rows for Locust's extended table (kind, name, state, detail)."""
    out = []
    for f in state["faults"]:
        detail = f"{f['action']} {f['target']} at +{f['at_s']:g}s"
        if f["seconds_left"] is not None:
            detail += f", {f['seconds_left']:g}s left"
        if f["error"]:
            detail += f": {f['error']}"
        out.append({"kind": "fault", "name": f["name"], "state": f["state"], "detail": detail})
    for p in state["probes"]:
        out.append({"kind": "probe", "name": p["name"], "state": "sampling" if state["running"] else "done",
                    "detail": f"last value {p['value']}"})
    for g in state["guards"]:
        out.append({"kind": "guard", "name": g["name"], "state": "tripped" if g["tripped"] else "watching",
                    "detail": g["tripped"]["reason"] if g["tripped"] else
                    f"{g['what']}: {'-' if g['figure'] is None else g['figure']} (limit {g['limit']:g})"})
    if state["verdict"] is not None:
        for inv in state["verdict"]["invariants"]:
            out.append({"kind": "invariant", "name": inv["name"], "state": inv.get("mark", inv["status"]),
                        "detail": inv["summary"]})
    return out
