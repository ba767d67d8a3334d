"""The verdict as a table for the terminal."""
from chaos_hooks.invariants import INVALID, UNKNOWN

MARK = {"valid": "PASS", "invalid": "FAIL", "unknown": "UNKNOWN"}
HEADLINE = {"valid": "PASSED", INVALID: "FAILED", UNKNOWN: "UNKNOWN", "interrupted": "INTERRUPTED"}


def interrupted_line(verdict: dict) -> str | None:
    """'interrupted at +7.3s: SIGINT (Ctrl-C)', or None for a run that went to its end."""
    what = verdict.get("interrupted")
    if not what:
        return None
    at = f" at +{what['at_s']:.1f}s" if what.get("at_s") is not None else ""
    return f"interrupted{at}: {what['why']}"


def render_table(verdict: dict) -> str:
    rows = [(MARK[i["status"]], i["name"], i["summary"]) for i in verdict["invariants"]]
    w_name = max([len(r[1]) for r in rows] + [9])
    headline = HEADLINE[verdict["status"]] + (" (partial)" if verdict.get("partial") else "")
    lines = [f"locust-chaos verdict: {verdict['scenario']}  ->  {headline}",
             f"  {'result':<7}  {'invariant':<{w_name}}  detail",
             f"  {'-' * 7}  {'-' * w_name}  {'-' * 40}"]
    if interrupted_line(verdict):
        lines.insert(1, f"  INTERRUPTED: {interrupted_line(verdict)} (an interrupted run never passes)")
    lines += [f"  {s:<7}  {n:<{w_name}}  {d}" for s, n, d in rows]
    h = verdict["history"]
    lines.append("  history: " + (", ".join(f"{k.replace('_', ' ')} {v}" for k, v in h.items()) or
                                  "none (it went with the master)"))
    for f in verdict["faults"]:
        when = f"injected +{f['injected_at']}s" if f["injected_at"] is not None else "not injected"
        healed = f", healed +{f['healed_at']}s" if f["healed_at"] is not None else ""
        err = f", ERROR {f['error']}" if f["error"] else ""
        facts = f.get("facts", {})
        backlog = ""
        if "backlog_at_heal" in facts:
            drained = facts.get("backlog_drained_s")
            backlog = (f", backlog {facts['backlog_at_heal']} drained in {drained:.2f}s" if drained is not None
                       else f", backlog {facts['backlog_at_heal']} not drained")
        lines.append(f"  fault {f['name']} ({f['action']} {f['target']}): {when}{healed}{backlog}{err}")
    if verdict.get("nemesis_seed") is not None:
        lines.append(f"  nemesis seed: {verdict['nemesis_seed']} (the same seed reproduces the schedule)")
    lines += _phases(verdict.get("phases") or [])
    catch = verdict.get("catch_up_s")
    note = verdict.get("catch_up_note") or "not reached"
    lines.append(f"  catch-up: {catch:.2f}s after the load ended" if catch is not None else f"  catch-up: {note}")
    for role, why in verdict.get("reads_failed", {}).items():
        lines.append(f"  read {role} failed: {why}")
    for lost in verdict.get("lost_workers", []):
        lines.append(f"  lost load generator {lost['node']} (tag {lost['tag']}, {lost['ops_reported']} ops reported)")
    for problem in verdict.get("harness_problems", []):
        lines.append(f"  HARNESS PROBLEM: {problem}")
    lines.append(f"  load generators with complete history: {verdict['workers']}   report: "
                 f"{verdict.get('report_dir', '-')}")
    return "\n".join(lines)


def _phases(phases: list[dict]) -> list[str]:
    if len(phases) < 2:
        return []
    width = max(len(p["name"]) for p in phases)
    lines = [f"  {'phase':<{width}}  {'from':>7}  {'to':>7}  {'requests':>8}  {'answered':>8}  {'p50 ms':>7}  "
             f"{'p99 ms':>7}"]
    for p in phases:
        share = f"{p['ok_share'] * 100:.1f}%" if p["ok_share"] is not None else "-"
        p50 = f"{p['p50_ms']:.0f}" if p["p50_ms"] is not None else "-"
        p99 = f"{p['p99_ms']:.0f}" if p["p99_ms"] is not None else "-"
        lines.append(f"  {p['name']:<{width}}  {p['start_s']:>6.1f}s  {p['end_s']:>6.1f}s  {p['requests']:>8}  "
                     f"{share:>8}  {p50:>7}  {p99:>7}")
    return lines
