"""Verdicts on one long-lived shop stack: a consumer that dies holding stream entries leaves a stuck backlog
(catch_up invalid "stuck", the entries counted as lost with that reason, figures equal to what XPENDING says);
the next, clean run on the same stack passes and reports the old backlog; Ctrl-C inside a fault window under
plain `locust --headless` gives "interrupted" and exit 3."""
import json
import os
import random
import signal
import subprocess
import threading
import time
from xml.etree import ElementTree

import pytest
import redis

from helpers import BIN, ROOT, chaos_run, invariant, wait_for

pytestmark = pytest.mark.slow
STREAM, GROUP = "orders", "order-writers"


def keyed_profile(stack, tmp_path):
    """The stack's profile with the backlog read naming the field that holds each entry's key."""
    with open(stack.profile_path) as f:
        data = json.load(f)
    data["reads"]["backlog"]["key_field"] = "idempotency_key"
    path = tmp_path / "target.json"
    path.write_text(json.dumps(data))
    return str(path)


def scenario(tmp_path, name, catch_up="{max: 4s, stuck_after: 2s}"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""name: {name}
system: shop
load: {{users: 10, spawn_rate: 10, run_time: 6s, user_classes: [OrderUser], wait: [0.2, 0.5]}}
values: {{product: "p-{{run_id}}", stock: 1000}}
invariants:
  no_data_loss: {{}}
  no_oversell: {{initial: stock}}
  catch_up: {catch_up}
""")
    return str(path)


def zombie_pending(r, product) -> dict[str, str]:
    """entry id -> idempotency key of this product's entries the zombie consumer holds (XPENDING)."""
    held = {}
    for p in r.xpending_range(STREAM, GROUP, min="-", max="+", count=100_000, consumername="zombie"):
        (_, fields), = r.xrange(STREAM, min=p["message_id"], max=p["message_id"])
        if fields[b"product_id"].decode() == product:
            held[p["message_id"].decode()] = fields[b"idempotency_key"].decode()
    return held


def test_stuck_backlog_fails_catch_up_counts_loss_and_the_next_clean_run_passes(system_stack, tmp_path):
    stack = system_stack("shop")
    target = keyed_profile(stack, tmp_path)
    r = redis.Redis.from_url(stack.datastores["cache"])
    stop = threading.Event()

    def zombie():  # a consumer that takes entries during the load and dies without acknowledging them
        wait_for(lambda: r.xlen(STREAM) > 0, 30, "the load to reach the stream")
        # The shop's worker is held still while the zombie reads, so the entries it takes are certainly new ones
        # (a fast worker would otherwise leave it nothing to read): a certain window, not a race.
        worker = stack.components["worker"].running_pid()
        os.kill(worker, signal.SIGSTOP)
        try:
            taken = 0
            deadline = time.monotonic() + 10
            while taken < 12 and time.monotonic() < deadline:
                got = r.xreadgroup(GROUP, "zombie", {STREAM: ">"}, count=3, block=200)
                taken += sum(len(entries) for _, entries in got or [])
        finally:
            os.kill(worker, signal.SIGCONT)
        stop.set()
    thread = threading.Thread(target=zombie, daemon=True)
    thread.start()
    report = tmp_path / "dirty"
    from helpers import run_cli, load_verdict, history_records
    code, out = run_cli(["run", scenario(tmp_path, "dirty"), "--target", target, "--report-dir", str(report),
                         "--seed", "3"])
    thread.join()
    assert "Traceback" not in out, out[-3000:]
    verdict, history = load_verdict(report), history_records(report)
    held = zombie_pending(r, verdict["values"]["product"])
    acked = {op["key"] for op in history if op["outcome"] == "ok"}
    assert held and set(held.values()) <= acked
    assert code == 1, out[-3000:]
    catch_up = invariant(verdict, "catch_up")
    assert catch_up["status"] == "invalid" and catch_up["figure"] == len(held)
    assert f"stuck at {len(held)} for " in catch_up["summary"] and "consumer zombie" in catch_up["summary"]
    loss = invariant(verdict, "no_data_loss")
    assert loss["status"] == "invalid" and loss["figure"] == len(held), loss
    assert f"{len(held)} stuck in the backlog" in loss["summary"]
    assert verdict["history"]["lost"] == loss["figure"]
    oversell = invariant(verdict, "no_oversell")
    assert oversell["status"] == "invalid" and oversell["figure"] == len(held)

    # The same stack, a clean run: the zombie's entries are still pending, reported and never counted.
    still = len(zombie_pending(r, verdict["values"]["product"]))
    code, out, clean, _ = chaos_run(stack, tmp_path, scenario(tmp_path, "clean", "{max: 10s}"), name="clean")
    assert code == 0, out[-3000:]
    assert clean["status"] == "valid"
    assert f"backlog {still} from before this run, not counted" in invariant(clean, "catch_up")["summary"]


def test_ctrl_c_inside_a_fault_window_under_plain_locust_is_interrupted(system_stack, tmp_path):
    stack = system_stack("shop")
    report = tmp_path / "report"
    proc = subprocess.Popen([os.path.join(BIN, "locust"), "-f", os.path.join(ROOT, "locustfiles", "shop.py"),
                             "--headless", "--scenario", "worker-crash", "--chaos-target", stack.profile_path,
                             "--chaos-report-dir", str(report), "--chaos-seed", "5", "-t", "20s"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("fault kill-worker injected" in line for line in lines), 30, "the kill")
        time.sleep(random.Random(5).uniform(0.5, 4.0))  # a seeded moment inside the 10 s fault window
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    out = "".join(lines)
    assert code == 3, out[-3000:]
    assert "INTERRUPTED" in out and "SIGINT" in out
    with open(report / "verdict.json") as f:
        verdict = json.load(f)
    assert verdict["status"] == "interrupted" and not verdict["passed"]
    assert verdict["interrupted"]["why"] == "SIGINT (Ctrl-C)" and 5 < verdict["interrupted"]["at_s"] < 15
    case = ElementTree.parse(report / "junit.xml").find(".//testcase[@name='interrupted']")
    assert case.find("error").get("type") == "interrupted"
    assert "Interrupted:" in (report / "report.html").read_text()
