"""The verdict as a table for the terminal."""


def render_table(verdict: dict) -> str:
    rows = [(("PASS" if i["passed"] else "FAIL"), i["name"], i["summary"]) for i in verdict["invariants"]]
    w_name = max([len(r[1]) for r in rows] + [9])
    lines = [f"locust-chaos verdict: {verdict['scenario']}  ->  {'PASSED' if verdict['passed'] else 'FAILED'}",
             f"  {'result':<6}  {'invariant':<{w_name}}  detail",
             f"  {'-' * 6}  {'-' * w_name}  {'-' * 40}"]
    lines += [f"  {s:<6}  {n:<{w_name}}  {d}" for s, n, d in rows]
    h = verdict["history"]
    lines.append("  history: " + ", ".join(f"{k} {v}" for k, v in h.items()))
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
    lines.append(f"  catch-up: {catch:.2f}s" if catch is not None else "  catch-up: not reached")
    lines.append(f"  workers reporting history: {verdict['workers']}   report: {verdict.get('report_dir', '-')}")
    return "\n".join(lines)
