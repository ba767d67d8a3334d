"""report.html: one self-contained page (it opens from disk, with no network) — the verdict, the invariants
with samples of their evidence, charts over time with the fault windows shaded and labelled (uPlot, inlined),
the phase table, the timeline, the seeds and the versions."""
import json
import os
import platform
import time
from importlib import metadata

import jinja2
from markupsafe import Markup

from chaos_hooks.report.terminal import HEADLINE, MARK, interrupted_line

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = 20


def _static(name: str) -> str:
    with open(os.path.join(HERE, "static", name)) as f:
        return f.read()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def _samples(evidence: dict) -> dict:
    """At most SAMPLE items of each evidence list, the rest counted."""
    out = {}
    for name, parts in evidence.items():
        out[name] = {}
        for key, items in (parts or {}).items():
            if isinstance(items, dict):
                items = [f"{k}: {v}" for k, v in items.items() if not isinstance(v, (dict, list))]
            if isinstance(items, list) and items and all(isinstance(i, (str, int, float)) for i in items):
                shown = ", ".join(str(i) for i in items[:SAMPLE])
                out[name][key] = shown + (f" (+{len(items) - SAMPLE} more)" if len(items) > SAMPLE else "")
    return out


def render(verdict: dict, evidence: dict, series: dict, windows: list[dict]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), autoescape=True)
    data = json.dumps({"series": series, "windows": windows}).replace("</", "<\\/")
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(verdict.get("started_at") or 0))
    load_s = (verdict.get("load_ended_at") or 0) - (verdict.get("started_at") or 0)
    return env.get_template("report.html").render(
        v=verdict, interrupted=interrupted_line(verdict), evidence=_samples(evidence), headline=HEADLINE[verdict["status"]], marks=MARK,
        started=started, load_s=max(load_s, 0.0),
        versions={"locust-chaos": _version("locust-chaos"), "locust": _version("locust"),
                  "python": platform.python_version(), "uPlot": "1.6.31"},
        uplot_css=Markup(_static("uPlot.min.css")), uplot_js=Markup(_static("uPlot.iife.min.js")),
        charts_js=Markup(_static("chaos-charts.js")), data_json=Markup(data))
