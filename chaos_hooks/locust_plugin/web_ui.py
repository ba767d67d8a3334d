"""The Chaos tab of Locust's web UI (Locust's own extension points: extra routes on environment.web_ui.app, an
extended tab with its table fed through /stats/requests, as in Locust's examples/extend_web_ui.py).

    GET /chaos/state            the run as JSON: scenario and timeline, fault states, probes, guards, verdict
    GET /chaos/report           the last run's report.html
    GET /chaos/static/<file>    the tab's script and its charting library

The tab shows the table Locust renders for it, and a panel of ours above it: the timeline and fault states
with countdowns, and throughput/latency charts with every fault window shaded and labelled — the chart
annotations Locust lacks.
"""
import json
import os

from flask import Response, abort, request, send_from_directory

from chaos_hooks.common import secrets
from chaos_hooks.locust_plugin import chaos_tab_state

STATIC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "report", "static")
TAB = {"title": "Chaos", "key": "chaos"}
TABLE = {"key": "chaos", "structure": [{"key": "kind", "title": "What"}, {"key": "name", "title": "Name"},
                                        {"key": "state", "title": "State"}, {"key": "detail", "title": "Detail"}]}
SCRIPT = '<script src="./chaos/static/chaos-ui.js"></script><link rel="stylesheet" href="./chaos/static/uPlot.min.css">'


def install(web_ui, snapshot) -> None:
    """snapshot(): the current state dict (see chaos_tab_state)."""
    app = web_ui.app
    # Locust's own guard for extra routes: with --web-login every /chaos/* route needs the same login as
    # Locust's pages (the tab's data comes through /stats/requests and /, which Locust already guards).
    protect = getattr(web_ui, "auth_required_if_enabled", None) or (lambda view: view)
    web_ui.template_args["extended_tabs"] = [TAB]
    web_ui.template_args["extended_tables"] = [TABLE]

    @app.route("/chaos/state")
    @protect
    def chaos_state():
        return Response(json.dumps(secrets.mask(snapshot())), mimetype="application/json")

    @app.route("/chaos/report")
    @protect
    def chaos_report():
        state = snapshot()
        path = state.get("report_path")
        if not path:
            abort(404)
        path = os.path.abspath(path)  # Flask reads a relative directory against the app's package, not the cwd
        if not os.path.isfile(path):
            abort(404)
        return send_from_directory(os.path.dirname(path), os.path.basename(path), max_age=0)

    @app.route("/chaos/static/<path:name>")
    @protect
    def chaos_static(name):
        return send_from_directory(STATIC, name)

    @app.after_request
    def extend(response):
        if request.path.endswith("/stats/requests") and response.is_json:
            body = response.get_json()
            body["extended_stats"] = [{"key": "chaos", "data": secrets.mask(chaos_tab_state.rows(snapshot()))}]
            response.set_data(json.dumps(body))
        elif request.path in ("/", "") and response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            response.set_data(html.replace("</body>", SCRIPT + "</body>", 1))
        return response
