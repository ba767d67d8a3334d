"""Verdicts on one long-lived shop stack: a consumer that dies holding stream entries leaves a stuck backlog
(catch_up invalid "stuck", the entries counted as lost with that reason, figures equal to what XPENDING says);
the next, clean run on the same stack passes and reports the old backlog; Ctrl-C inside a fault window under
plain `locust --headless` gives "interrupted" and exit 3; a slow drain cut short by a short bound leaves its
queued orders in flight (unknown), never lost."""
import json
import os
import random
import signal
import subprocess
import threading
import time
from xml.etree import ElementTree

import psycopg
import pytest
import redis

from helpers import BIN, ROOT, SHOP_CRASH, chaos_run, history_records, invariant, load_verdict, wait_for

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
load: {{users: 10, spawn_rate: 10, run_time: 4s, user_classes: [OrderUser], wait: [0.2, 0.5]}}
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
    from helpers import run_cli
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
                             "--headless", "--chaos-scenario-file", SHOP_CRASH, "--chaos-target", stack.profile_path,
                             "--chaos-report-dir", str(report), "--chaos-seed", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("fault kill-worker injected" in line for line in lines), 30, "the kill")
        time.sleep(random.Random(5).uniform(0.5, 4.0))  # a seeded moment inside the 5 s fault window
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
    assert verdict["interrupted"]["why"] == "SIGINT (Ctrl-C)" and 1 < verdict["interrupted"]["at_s"] < 6
    case = ElementTree.parse(report / "junit.xml").find(".//testcase[@name='interrupted']")
    assert case.find("error").get("type") == "interrupted"
    assert "Interrupted:" in (report / "report.html").read_text()


def queued_order_ids(r, product) -> tuple[int, set[str]]:
    """(entries, order ids) of this product still queued for the group: not yet delivered, or delivered and
    not acknowledged (XPENDING) — read straight from the stream."""
    group = next(g for g in r.xinfo_groups(STREAM) if g["name"].decode() == GROUP)
    entries = r.xrange(STREAM, min=f"({group['last-delivered-id'].decode()}")
    for p in r.xpending_range(STREAM, GROUP, min="-", max="+", count=100_000):
        entries += r.xrange(STREAM, min=p["message_id"], max=p["message_id"])
    ours = [f for _, f in entries if f[b"product_id"].decode() == product]
    return len(ours), {f[b"order_id"].decode() for f in ours}


def test_a_slow_drain_past_a_short_bound_is_in_flight_not_lost(system_stack, tmp_path):
    """The shop's slow-writer keeps about 10 orders/s; the load sends about 28/s. The worker is stopped the
    moment verification starts waiting, well before the bound and long before `stuck_after`, so the backlog
    the harness reads at the bound is the one the test reads after the run: a certain window, not a race."""
    stack = system_stack("shop", bugs=["slow-writer"])
    r = redis.Redis.from_url(stack.datastores["cache"])
    report = tmp_path / "report"
    path = tmp_path / "slow-drain.yaml"
    path.write_text("""name: slow-drain
system: shop
load: {users: 10, spawn_rate: 10, run_time: 4s, user_classes: [OrderUser], wait: [0.2, 0.5]}
values: {product: "s-{run_id}", stock: 1000}
invariants:
  no_data_loss: {}
  no_oversell: {initial: stock}
  catch_up: {max: 4s, stuck_after: 10s}
""")
    worker = stack.components["worker"].running_pid()
    proc = subprocess.Popen([os.path.join(BIN, "locust-chaos"), "run", str(path), "--target", stack.profile_path,
                             "--report-dir", str(report), "--seed", "11", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("waiting for the system to catch up" in line for line in lines), 60,
                 "verification to start waiting")
        os.kill(worker, signal.SIGSTOP)
        code = proc.wait(timeout=60)
        reader.join(timeout=5)
        out = "".join(lines)
        assert "Traceback" not in out, out[-3000:]
        verdict = load_verdict(report)
        product = verdict["values"]["product"]
        backlog, queued = queued_order_ids(r, product)
        with psycopg.connect(stack.datastores["db"]) as db:
            kept = {row[0] for row in db.execute("SELECT order_id FROM orders WHERE product_id = %s", (product,))}
        stock_left = int(r.get(f"stock:{product}"))
    finally:
        os.kill(worker, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    acked = {op["id"] for op in history_records(report) if op["outcome"] == "ok"}
    missing = acked - kept
    assert len(missing & queued) > 20, (len(missing), len(queued))  # a real drain was cut short
    assert code == 1, out[-3000:]
    catch_up = invariant(verdict, "catch_up")
    assert catch_up["status"] == "invalid" and catch_up["figure"] == backlog
    assert f"backlog {backlog}, draining at " in catch_up["summary"], catch_up
    loss = invariant(verdict, "no_data_loss")
    assert loss["status"] == "unknown" and loss["figure"] == len(missing - queued) == 0, loss
    assert f"{len(missing & queued)} in flight, not counted" in loss["summary"], loss
    oversell = invariant(verdict, "no_oversell")
    gap = 1000 - stock_left - len(kept)
    assert oversell["status"] == "unknown" and f"{gap} units in flight" in oversell["summary"], oversell
    # What was in flight was never lost: once the worker goes on, every acknowledged order is kept.
    with psycopg.connect(stack.datastores["db"]) as db:
        wait_for(lambda: not acked - {row[0] for row in db.execute(
            "SELECT order_id FROM orders WHERE product_id = %s", (product,))}, 30, "the drain to finish")
