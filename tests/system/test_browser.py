"""The verdict where people look, seen in a real browser (Debian's Chromium, headless, through selenium):
the Chaos tab of Locust's web UI through a run with a fault, and report.html opened from disk.

With LOCUST_CHAOS_DOCS=1 the screenshots are also written to docs/ (the README shows them)."""
import os
import shutil
import subprocess

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from chaos_hooks.common.ports import free_port

from chaos_hooks.common.procs import stop_pid
from chaos_hooks.spec.profile import load_profile
from helpers import BIN, ROOT, load_verdict, wait_for

pytestmark = pytest.mark.slow
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--window-size=1400,1300"]
SCENARIO = """\
name: ui-demo
system: shop
load: {users: 20, spawn_rate: 20, run_time: 60s, user_classes: [OrderUser], wait: [0.2, 0.6]}
values: {product: "ui-{run_id}", stock: 1000}
faults:
  - {name: kill-worker, action: process.kill, target: worker, at: 2s, heal_after: 3s}
probes:
  - {name: health, http: GET /health, every: 250ms, expect: [{phase: always, equals: 200}]}
guards:
  - {name: unanswered, error_ratio: 0.9, window: 2s, min_ops: 5}
invariants: {no_data_loss: {}, no_oversell: {initial: stock}, no_duplicates: {}, catch_up: {max: 30s}}
"""


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def screenshot(driver, tmp_path, name: str, docs: bool = True) -> str:
    path = str(tmp_path / name)
    assert driver.save_screenshot(path)
    if docs and os.environ.get("LOCUST_CHAOS_DOCS"):
        os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
        shutil.copy(path, os.path.join(ROOT, "docs", name))
    return path


def button(driver, text: str):
    return next(b for b in driver.find_elements("css selector", "button") if b.text.strip().upper() == text)


def query(driver, selector: str, *attributes: str) -> list:
    """Attributes (or "text") of every element matching selector, read in one go: the panel re-renders every
    second, so element handles go stale between calls."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => arguments[1].map("
        "a => a === 'text' ? e.textContent : e.getAttribute(a)))", selector, list(attributes))


def fault_state(driver, name: str):
    rows = query(driver, f'#chaos-panel tr[data-fault="{name}"]', "data-state")
    return rows[0][0] if rows else None


def test_chaos_tab_follows_a_run_and_shows_its_verdict(system_stack, browser, tmp_path, home):
    stack = system_stack("shop")
    scenario = tmp_path / "ui-demo.yaml"
    scenario.write_text(SCENARIO)
    port = free_port()
    ui = f"http://127.0.0.1:{port}"
    # A relative report directory, as the README's commands give it: the tab's report link must still work.
    proc = subprocess.Popen([os.path.join(BIN, "locust"), "-f", os.path.join(ROOT, "locustfiles", "shop.py"),
                             "--web-host", "127.0.0.1", "--web-port", str(port), "--chaos-scenario-file",
                             str(scenario), "--chaos-target", stack.profile_path, "--chaos-report-dir", "report"],
                            cwd=tmp_path,
                            env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)),
                            stdout=open(tmp_path / "locust.log", "w"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _answers(ui), 30, "the web UI")
        state = requests.get(f"{ui}/chaos/state", timeout=5).json()
        assert state["scenario"] == "ui-demo" and [f["state"] for f in state["faults"]] == ["scheduled"]

        browser.get(f"{ui}/?tab=chaos")  # before the start: the timeline, above Locust's start form
        wait_for(lambda: fault_state(browser, "kill-worker") == "scheduled", 15, "the timeline before the start")
        assert "not started" in query(browser, "#chaos-head", "text")[0][0]
        button(browser, "START").click()
        wait_for(lambda: [t for t in browser.find_elements("css selector", "[role=tab]") if t.text == "CHAOS"], 15,
                 "Locust's tabs")
        next(t for t in browser.find_elements("css selector", "[role=tab]") if t.text == "CHAOS").click()
        wait_for(lambda: fault_state(browser, "kill-worker") == "active", 20, "the fault to show active")
        assert "s left)" in query(browser, '#chaos-panel tr[data-fault="kill-worker"]', "text")[0][0]
        # Probes and guards, live: the probe's last value is what the shop answers; the guard shows its figure.
        health = requests.get(f"{load_profile(stack.profile_path).host}/health", timeout=5).status_code
        wait_for(lambda: f"last value {health}" in (query(browser, '#chaos-panel tr[data-probe="health"]', "text")
                                                      or [[""]])[0][0], 10, "the probe's value in the tab")
        wait_for(lambda: (query(browser, '#chaos-panel tr[data-guard="unanswered"]', "data-figure") or [[""]])[0][0]
                 not in ("", "null", None), 10, "the guard's live figure in the tab")
        (figure, tripped), = query(browser, '#chaos-panel tr[data-guard="unanswered"]', "data-figure", "data-tripped")
        assert 0.0 <= float(figure) <= 0.9 and tripped == "false"
        wait_for(lambda: query(browser, '#chaos-charts .fault-band[data-fault="kill-worker"]', "data-end")
                 == [[""]], 10, "the active fault's band on the live charts")  # no end yet: it runs on
        screenshot(browser, tmp_path, "chaos-tab-active.png", docs=False)
        wait_for(lambda: fault_state(browser, "kill-worker") == "healed", 20, "the fault to show healed")
        # Locust's own table of the tab (fed through /stats/requests) carries the same state.
        wait_for(lambda: browser.execute_script(
            "return Array.from(document.querySelectorAll('table')).some(t => !t.closest('#chaos-panel') && "
            "t.textContent.includes('kill-worker') && t.textContent.includes('healed'))"),
            15, "Locust's Chaos table to show the heal")
        button(browser, "STOP").click()
        wait_for(lambda: query(browser, "#chaos-verdict-status", "data-status"), 60, "the verdict in the tab")
        verdict = load_verdict(tmp_path / "report")
        assert query(browser, "#chaos-verdict-status", "data-status") == [[verdict["status"]]] == [["valid"]]
        rows = dict(query(browser, "#chaos-verdict tr[data-invariant]", "data-invariant", "data-status"))
        assert rows == {i["name"]: i["status"] for i in verdict["invariants"]}
        # The verdict in the terminal's words (Locust's log) and report.html's colours, not a bare "valid".
        ((badge, colour),) = browser.execute_script(
            "var b = document.getElementById('chaos-verdict-badge');"
            "return [[b.textContent, getComputedStyle(b).backgroundColor]]")
        assert badge == "PASSED"
        wait_for(lambda: "locust-chaos verdict: ui-demo  ->  PASSED" in (tmp_path / "locust.log").read_text(), 10,
                 "the same words in the terminal's table")
        marks = {t for (t,) in query(browser, "#chaos-verdict tr[data-invariant] .chaos-badge", "text")}
        assert marks == {"PASS"}
        wait_for(lambda: query(browser, '#chaos-charts .fault-band[data-fault="kill-worker"]', "data-start"), 10,
                 "the fault window on the charts")
        assert len(query(browser, "#chaos-charts canvas", "width")) == 3
        ((start, end),) = query(browser, '#chaos-charts .fault-band[data-fault="kill-worker"]', "data-start",
                                "data-end")
        fault = verdict["faults"][0]
        assert float(start) == pytest.approx(fault["injected_at"], abs=0.01)
        assert float(end) == pytest.approx(fault["healed_at"], abs=0.01)
        report = requests.get(f"{ui}/chaos/report", timeout=5)
        assert report.status_code == 200 and "kill-worker" in report.text
        with open(tmp_path / "report" / "report.html") as f:
            assert report.text == f.read()
        wait_for(lambda: "STOPPED" in browser.execute_script("return document.body.innerText.toUpperCase()"), 10,
                 "Locust's header to say the run stopped")
        screenshot(browser, tmp_path, "chaos-tab.png")
        link = browser.execute_script("return document.getElementById('chaos-report-link').href")
        browser.get(link)  # the tab's link, followed: report.html with the same words and colour
        shown = browser.execute_script("var b = document.getElementById('verdict-status');"
                                       "return [b.textContent, getComputedStyle(b).backgroundColor]")
        assert shown == [badge, colour]
    finally:
        stop_pid(proc.pid)


def _answers(url) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


def test_report_html_opens_from_disk_with_its_charts(system_stack, browser, tmp_path, home):
    stack = system_stack("shop")
    report = tmp_path / "report"
    done = subprocess.run([os.path.join(BIN, "locust-chaos"), "run", "api-kill", "--target", stack.profile_path,
                           "--report-dir", str(report), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          timeout=180, env=dict(os.environ, LOCUST_CHAOS_HOME=str(home)))
    assert "[chaos] +" not in done.stdout + done.stderr  # --quiet: no live line
    verdict = load_verdict(report)
    browser.get(f"file://{report / 'report.html'}")
    assert query(browser, "#verdict-status", "text") == [["PASSED"]]
    assert len(query(browser, "#charts canvas", "width")) == 3
    assert [b for (b,) in query(browser, "#charts .fault-band", "data-fault")] == [f["name"] for f in verdict["faults"]]
    shown = dict(query(browser, "#invariants tr[data-invariant]", "data-invariant", "data-status"))
    assert shown == {i["name"]: i["status"] for i in verdict["invariants"]}
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    screenshot(browser, tmp_path, "report.png")
