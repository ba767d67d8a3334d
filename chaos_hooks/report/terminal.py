"""The verdict as a table for the terminal."""
from ..invariants import INVALID, UNKNOWN

MARK = {"valid": "PASS", "invalid": "FAIL", "unknown": "UNKNOWN"}
HEADLINE = {"valid": "PASSED", INVALID: "FAILED", UNKNOWN: "UNDECIDED"}


def render_table(verdict: dict) -> str:
    rows = [(MARK[i["status"]], i["name"], i["summary"]) for i in verdict["invariants"]]
    w_name = max([len(r[1]) for r in rows] + [9])
    headline = HEADLINE[verdict["status"]] + (" (partial)" if verdict.get("partial") else "")
    lines = [f"locust-chaos verdict: {verdict['scenario']}  ->  {headline}",
             f"  {'result':<7}  {'invariant':<{w_name}}  detail",
             f"  {'-' * 7}  {'-' * w_name}  {'-' * 40}"]
    lines += [f"  {s:<7}  {n:<{w_name}}  {d}" for s, n, d in rows]
    h = verdict["history"]
    lines.append("  history: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in h.items()))
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
    catch = verdict.get("catch_up_s")
    lines.append(f"  catch-up: {catch:.2f}s after the load ended" if catch is not None else "  catch-up: not reached")
    for role, why in verdict.get("reads_failed", {}).items():
        lines.append(f"  read {role} failed: {why}")
    for lost in verdict.get("lost_workers", []):
        lines.append(f"  lost load generator {lost['node']} (tag {lost['tag']}, {lost['ops_reported']} ops reported)")
    for problem in verdict.get("harness_problems", []):
        lines.append(f"  HARNESS PROBLEM: {problem}")
    lines.append(f"  load generators with complete history: {verdict['workers']}   report: "
                 f"{verdict.get('report_dir', '-')}")
    return "\n".join(lines)
