"""The campaign report of `locust-chaos matrix`, in seed 001's "Test Matrix" shape: one row per preset —
what fails, what is expected, the result, key figures and a link to the run's own report — as matrix.json,
junit.xml (one testsuite per preset), matrix.html and a terminal table.

A row is a plain dict: {name, status, report, what_fails, expected, figures, phases, detail}; status is one
of STATUSES. Nothing here runs anything: rows come from verdict.json files (row_from_verdict)."""
import html
import json
import os
from xml.etree import ElementTree as ET

from chaos_hooks.report import junit

VALID, INVALID, UNKNOWN, INTERRUPTED, SKIPPED, NOT_RUN = "valid", "invalid", "unknown", "interrupted", "skipped", \
    "not run"
STATUSES = (VALID, INVALID, UNKNOWN, INTERRUPTED, SKIPPED, NOT_RUN)
RESULT = {VALID: "PASS", INVALID: "FAIL", UNKNOWN: "UNKNOWN", INTERRUPTED: "INTERRUPTED", SKIPPED: "SKIPPED",
          NOT_RUN: "NOT RUN"}
EXPECT = {"no_data_loss": "zero data loss", "no_oversell": "no overselling", "no_duplicates": "no duplicates",
          "per_key_order": "per-key order"}
FIGURES = (("lost", "lost"), ("oversold", "oversold"), ("duplicates", "dup"), ("catch_up_s", "catch-up"))


def what_fails(scenario) -> str:
    """The faults in a few words: `process.kill worker @5s for 10s`; a nemesis names what it picks from."""
    parts = []
    for f in scenario.faults:
        span = f" for {f.heal_after:g}s" if f.heal_after is not None else ""
        parts.append(f"{f.action} {f.target} @{f.at:g}s{span}")
    if scenario.nemesis is not None:
        picks = sorted({f"{c.action} {c.target}" for c in scenario.nemesis.choices})
        parts.append(f"nemesis ({', '.join(picks)})")
    return "; ".join(parts) or "nothing (load only)"


def expected(scenario) -> str:
    out = []
    for name, params in scenario.invariants.items():
        if name == "catch_up":
            out.append(f"catch-up < {params.get('max', 30.0):g}s")
        else:
            out.append(EXPECT.get(name, name.replace("_", " ")))
    return ", ".join(out)


def verdict_status(verdict: dict) -> str:
    if verdict.get("status") == INTERRUPTED or verdict.get("partial"):
        return INTERRUPTED
    return verdict.get("status") if verdict.get("status") in (VALID, INVALID, UNKNOWN) else UNKNOWN


def figures(verdict: dict) -> dict:
    """lost, oversold, duplicates (the invariants' figures; None when undecided or not checked), catch-up s."""
    by_name = {i["name"]: i for i in verdict.get("invariants", [])}

    def figure(name):
        inv = by_name.get(name)
        return inv.get("figure") if inv is not None and inv.get("status") != UNKNOWN else None
    return {"lost": figure("no_data_loss"), "oversold": figure("no_oversell"),
            "duplicates": figure("no_duplicates"), "catch_up_s": verdict.get("catch_up_s")}


def phase_figures(verdict: dict) -> list[dict]:
    return [{"name": p["name"], "answered": p.get("ok_share"), "p99_ms": p.get("p99_ms")}
            for p in verdict.get("phases") or []]


def row_from_verdict(name: str, scenario, verdict: dict, report: str) -> dict:
    invalid = [i["name"] for i in verdict.get("invariants", []) if i["status"] == INVALID]
    detail = ("fails " + ", ".join(invalid)) if invalid else "; ".join(verdict.get("harness_problems") or [])
    return {"name": name, "status": verdict_status(verdict), "report": report, "what_fails": what_fails(scenario),
            "expected": expected(scenario), "figures": figures(verdict), "phases": phase_figures(verdict),
            "invalid": invalid, "detail": detail, "run_id": verdict.get("run_id"), "seed": verdict.get("seed"),
            "nemesis_seed": verdict.get("nemesis_seed")}


def row_without_verdict(name: str, scenario, status: str, detail: str, report: str | None = None) -> dict:
    return {"name": name, "status": status, "report": report,
            "what_fails": what_fails(scenario) if scenario is not None else "-",
            "expected": expected(scenario) if scenario is not None else "-", "figures": {}, "phases": [],
            "invalid": [], "detail": detail}


def overall(rows: list[dict]) -> str:
    """The worst verdict: invalid, else unknown (also interrupted or not run), else valid."""
    statuses = {r["status"] for r in rows}
    if INVALID in statuses:
        return INVALID
    if statuses & {UNKNOWN, INTERRUPTED, NOT_RUN}:
        return UNKNOWN
    return VALID


def exit_code(rows: list[dict]) -> int:
    return {VALID: 0, INVALID: 1}.get(overall(rows), 3)


# --- renderings ------------------------------------------------------------------------------------------
def _num(value, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def figures_text(row: dict) -> str:
    f = row.get("figures") or {}
    if not f:
        return "-"
    shown = dict(f, catch_up_s=round(f["catch_up_s"], 1) if f.get("catch_up_s") is not None else None)
    parts = [f"{label} {_num(shown.get(key), 's' if key == 'catch_up_s' else '')}" for key, label in FIGURES]
    return ", ".join(parts)


def phases_text(row: dict) -> str:
    out = []
    for p in row.get("phases") or []:
        share = f"{p['answered'] * 100:.0f}%" if p.get("answered") is not None else "-"
        p99 = f"{p['p99_ms']:.0f}ms" if p.get("p99_ms") is not None else "-"
        out.append(f"{p['name']}: {share} p99 {p99}")
    return "; ".join(out)


def render_table(rows: list[dict], campaign_dir: str | None = None) -> str:
    """The terminal table and its final line."""
    head = ("preset", "what fails", "expected", "result", "key figures", "report")
    body = []
    for r in rows:
        result = RESULT[r["status"]] + (f" ({r['detail']})" if r.get("detail") else "")
        body.append((r["name"], r["what_fails"], r["expected"], result, figures_text(r), r.get("report") or "-"))
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    widths[-1] = len(head[-1])  # the last column is not padded
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    lines = [line(head), line(tuple("-" * w for w in widths))]
    for r, b in zip(rows, body):
        lines.append(line(b))
        if r.get("phases"):
            lines.append("    phases: " + phases_text(r))
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    summary = ", ".join(f"{n} {RESULT[s].lower()}" for s, n in counts.items() if n)
    where = f"; report {os.path.join(campaign_dir, 'matrix.html')}" if campaign_dir else ""
    lines.append(f"locust-chaos matrix: {overall(rows).upper()} ({len(rows)} presets: {summary or 'none'}){where}")
    return "\n".join(lines)


def to_json(rows: list[dict]) -> dict:
    return {"status": overall(rows), "exit_code": exit_code(rows), "presets": rows}


def render_html(rows: list[dict], campaign_dir: str) -> str:
    """matrix.html: the seed's table, each row linking to the run's own report.html (relative)."""
    e = html.escape
    cls = {VALID: "pass", INVALID: "fail"}
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>locust-chaos matrix</title><style>",
           "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}",
           "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}",
           ".pass{background:#dfd}.fail{background:#fdd}.other{background:#eee}small{color:#555}",
           "</style></head><body>",
           f"<h1>Chaos matrix: {e(overall(rows).upper())}</h1>",
           "<table><tr><th>Preset</th><th>What fails</th><th>Expected</th><th>Result</th><th>Key figures</th>"
           "<th>Answered share and p99 per phase</th><th>Report</th></tr>"]
    for r in rows:
        link = "-"
        if r.get("report"):
            href = os.path.relpath(os.path.join(r["report"], "report.html"), campaign_dir)
            link = f"<a href='{e(href)}'>report.html</a>"
        detail = f"<br><small>{e(r['detail'])}</small>" if r.get("detail") else ""
        phases = "<br>".join(e(p) for p in phases_text(r).split("; ")) if r.get("phases") else "-"
        out.append(f"<tr><td>{e(r['name'])}</td><td>{e(r['what_fails'])}</td><td>{e(r['expected'])}</td>"
                   f"<td class='{cls.get(r['status'], 'other')}'>{e(RESULT[r['status']])}{detail}</td>"
                   f"<td>{e(figures_text(r))}</td><td>{phases}</td><td>{link}</td></tr>")
    out.append("</table></body></html>\n")
    return "\n".join(out)


def render_junit(rows: list[dict], verdicts: dict[str, dict]) -> bytes:
    """One testsuite per preset: a run's own suite (report/junit.py) or one skipped testcase."""
    root = ET.Element("testsuites", name="locust-chaos matrix")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for r in rows:
        verdict = verdicts.get(r["name"])
        if verdict is not None:
            suite = ET.fromstring(junit.render(verdict)).find("testsuite")
            suite.set("name", f"locust-chaos.{r['name']}")
            if r["status"] == INTERRUPTED and not any(c.find("error") is not None for c in suite):
                case = ET.SubElement(suite, "testcase", classname=suite.get("name"), name="run", time="0")
                ET.SubElement(case, "error", message="interrupted before its verdict", type="interrupted")
                suite.set("tests", str(int(suite.get("tests")) + 1))
                suite.set("errors", str(int(suite.get("errors")) + 1))
        else:
            suite = ET.Element("testsuite", name=f"locust-chaos.{r['name']}", tests="1", failures="0",
                               errors="0", skipped="0", time="0")
            case = ET.SubElement(suite, "testcase", classname=suite.get("name"), name="run", time="0")
            why = f"{r['status']}: {r.get('detail') or ''}".strip(": ")
            if r["status"] in (SKIPPED, NOT_RUN):
                ET.SubElement(case, "skipped", message=why)
                suite.set("skipped", "1")
            else:
                ET.SubElement(case, "error", message=why, type=r["status"])
                suite.set("errors", "1")
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        root.append(suite)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(totals[key]))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def write_campaign(campaign_dir: str, rows: list[dict], verdicts: dict[str, dict]) -> None:
    os.makedirs(campaign_dir, exist_ok=True)
    _write(os.path.join(campaign_dir, "matrix.json"), (json.dumps(to_json(rows), indent=2) + "\n").encode())
    _write(os.path.join(campaign_dir, "junit.xml"), render_junit(rows, verdicts))
    _write(os.path.join(campaign_dir, "matrix.html"), render_html(rows, campaign_dir).encode())


def _write(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
