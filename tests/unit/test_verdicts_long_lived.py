"""Verdicts that stay true on long-lived systems: catch-up decided from the backlog (reached, draining, stuck),
loss split into lost / stuck / in flight, interrupted runs, invariant instances over named reads, phases cut
at the actual fault times."""
import textwrap
import time
from types import SimpleNamespace
from xml.etree import ElementTree

import numpy as np

from chaos_hooks.common.safe_yaml import load_text
from chaos_hooks.common.table import Table
from chaos_hooks.history import FAIL, OK
from chaos_hooks.report import junit
from chaos_hooks.report.terminal import render_table
from chaos_hooks.spec.scenario import parse_scenario
from chaos_hooks.verify import verification
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.verify.backlog_watch import CatchUp, CatchUpWatch
from chaos_hooks.verify.phases import phases
from chaos_hooks.verify.read_results import ReadResults
from chaos_hooks.verify.verdict import build_verdict, exit_code
from test_invariants import check, history, rows_of

ACKED = [(k, OK, f"id-{k}") for k in "abcdef"]


def seen(state, backlog, keys=None, reason="", **kw):
    return CatchUp(0.0, caught_up=False, waited_s=3.0, state=state, backlog=backlog, in_flight_keys=keys,
                   reason=reason or f"{state} {backlog}", **kw)


def results(rows, observation, stock_left=None):
    r = ReadResults()
    r.put("persisted", Table.from_records(rows, "test"))
    if stock_left is not None:
        r.put("stock_left", stock_left)
    r.observations["catch_up"] = observation
    return r


def test_stuck_backlog_counts_its_keys_as_lost_with_the_reason():
    h = history(ACKED)
    obs = seen("stuck", 2, keys=["c", "d"], reason="stuck at 2 for 6.0s (held by consumer z: 2 pending, idle 6.0s)",
               holders=["consumer z: 2 pending, idle 6.0s"])
    result = check("no_data_loss", h, results(rows_of(("a", "id-a"), ("b", "id-b")), obs))
    assert result.status == "invalid" and result.figure == 4  # c, d stuck; e, f neither kept nor queued
    assert result.evidence["stuck"] == 2 and result.evidence["lost_count"] == 2
    assert sorted(result.evidence["stuck_keys"]) == ["c", "d"] and sorted(result.evidence["lost"]) == ["e", "f"]
    assert "lost 4 of 6 acknowledged ids" in result.summary and "held by consumer z" in result.summary


def test_draining_backlog_keys_are_in_flight_never_lost():
    h = history(ACKED)
    obs = seen("draining", 4, keys=["c", "d", "e", "f"], reason="backlog 4, draining at 2.0/s")
    result = check("no_data_loss", h, results(rows_of(("a", "id-a"), ("b", "id-b")), obs))
    assert (result.status, result.figure) == ("unknown", 0)
    assert result.evidence["in_flight"] == 4 and "4 in flight, not counted" in result.summary
    # one of them not queued: that one is lost, proven; the rest stay in flight
    obs = seen("draining", 3, keys=["c", "d", "e"], reason="backlog 3, draining at 2.0/s")
    result = check("no_data_loss", h, results(rows_of(("a", "id-a"), ("b", "id-b")), obs))
    assert (result.status, result.figure) == ("invalid", 1) and result.evidence["lost"] == ["f"]


def test_a_backlog_count_without_keys_bounds_loss_from_below():
    h = history(ACKED)
    result = check("no_data_loss", h, results(rows_of(("a", "id-a")), seen("draining", 2)))
    assert (result.status, result.figure) == ("invalid", 3)
    assert "lost at least 3 of 6 acknowledged ids" in result.summary


def test_catch_up_is_decided_whenever_the_backlog_was_read():
    h = history(ACKED)
    stuck = check("catch_up", h, results([], seen("stuck", 16, reason="stuck at 16 for 8.0s")), {"max": 5.0})
    assert (stuck.status, stuck.figure) == ("invalid", 16) and "stuck at 16 for 8.0s" in stuck.summary
    draining = check("catch_up", h, results([], seen("draining", 9, reason="backlog 9, draining at 3.0/s")))
    assert draining.status == "invalid" and "draining at 3.0/s" in draining.summary
    unread = CatchUp(0.0, waited_s=3.0, unreadable=True, reason="unreadable: redis down")
    assert check("catch_up", h, results([], unread)).status == "unknown"
    old = CatchUp(0.0, caught_up=True, seconds=0.5, before=40)
    passed = check("catch_up", h, results([], old), {"max": 5.0})
    assert passed.status == "valid" and "backlog 40 from before this run, not counted" in passed.summary


def test_conservation_splits_the_same_way_and_needs_an_acknowledgement():
    values = {"stock": 10}
    h = history(ACKED, values=values)
    rows = rows_of(("a", "id-a"), ("b", "id-b"))
    stuck = check("no_oversell", h, results(rows, seen("stuck", 4), stock_left=4), {"initial": "stock"})
    assert (stuck.status, stuck.figure) == ("invalid", 4)
    draining = check("no_oversell", h, results(rows, seen("draining", 4), stock_left=4), {"initial": "stock"})
    assert draining.status == "unknown" and "4 units in flight" in draining.summary
    short = check("no_oversell", h, results(rows, seen("draining", 1), stock_left=4), {"initial": "stock"})
    assert (short.status, short.figure) == ("invalid", 3)
    nothing = history([("a", FAIL, None)], values=values)
    assert check("no_oversell", nothing, results([], CatchUp(0.0, True, 0.1), stock_left=10),
                 {"initial": "stock"}).status == "unknown"


def test_invariant_instances_name_their_reads():
    text = textwrap.dedent("""\
        name: two-sources
        load: {users: 1, run_time: 5s}
        values: {stock: 10}
        invariants:
          no_oversell: {initial: stock}
          no_oversell@db: {initial: stock, stock_left: stock_db}
          no_duplicates@cancel: {persisted: cancellations}
        """)
    scenario = parse_scenario(load_text(text, "s.yaml"))
    assert verification.needed_reads(scenario) == {"persisted": "rows", "stock_left": "value", "stock_db": "value",
                                                   "cancellations": "rows"}
    h = history(ACKED, values={"stock": 10})
    r = ReadResults()
    r.put("persisted", Table.from_records(rows_of(*[(k, f"id-{k}") for k in "abcdef"]), "t"))
    r.put("stock_left", 4)
    r.put("stock_db", 7)  # the second source disagrees: 6 kept + 7 left > 10
    r.put("cancellations", Table.from_records(rows_of(("a", "x"), ("a", "y")), "t"))
    r.observations["catch_up"] = CatchUp(0.0, True, 0.1)
    got = {res.name: res for res in verification.decide(scenario, h, r)}
    assert got["no_oversell"].status == "valid"
    assert got["no_oversell@db"].status == "invalid" and got["no_oversell@db"].figure == 3
    assert got["no_duplicates@cancel"].status == "invalid" and got["no_duplicates@cancel"].figure == 1


def _run(interrupted):
    sched = SimpleNamespace(t0_wall=100.0, report=lambda: [])
    store = SimpleNamespace(columns=lambda: {"t0": np.zeros(0), "t1": np.zeros(0), "outcome": np.zeros(0, np.int8),
                                             "status": np.zeros(0, np.int16)})
    return SimpleNamespace(scenario=SimpleNamespace(name="s"), profile=SimpleNamespace(system=None, source="p",
                           host="h"), run_id="r", values={}, seed=1, sources={"local"}, lost={}, scheduler=sched,
                           nemesis_seed=None, store=store, fault_windows=lambda: [], load_ended_at=110.0,
                           report_dir="/tmp/x", interrupted=interrupted)


def test_an_interrupted_run_never_passes_and_says_when_and_why():
    from chaos_hooks.invariants import Result
    h = history(ACKED)
    ok = [Result("no_data_loss", "valid", "lost 0")]
    v = build_verdict(_run({"at": 107.25, "why": "SIGINT (Ctrl-C)"}), h, ok, None, None, [])
    assert v["status"] == "interrupted" and v["overall"] == "unknown" and not v["passed"]
    assert v["interrupted"] == {"at": 107.25, "at_s": 7.25, "why": "SIGINT (Ctrl-C)"}
    assert exit_code(v) == 3
    assert "INTERRUPTED" in render_table(v) and "interrupted at +7.2s: SIGINT (Ctrl-C)" in render_table(v)
    case = ElementTree.fromstring(junit.render(v)).find(".//testcase[@name='interrupted']")
    assert case.find("error").get("type") == "interrupted"
    guard = build_verdict(_run({"at": 105.0, "why": "guard x tripped"}), h,
                          ok + [Result("guard:x", "invalid", "tripped", 1)], None, None, [])
    assert exit_code(guard) == 1
    assert exit_code(build_verdict(_run(None), h, ok, None, None, [])) == 0


def test_phases_cut_where_faults_took_effect():
    cols = {"t0": np.array([0.5, 2.5, 3.5]), "t1": np.array([0.6, 2.6, 3.6]), "outcome": np.array([0, 0, 0], np.int8),
            "status": np.array([200, 200, 200], np.int16)}
    windows = [{"name": "kill", "injected_at": 1.0, "healed_at": 3.0, "effective_at": 2.0,
                "effective_healed_at": 3.2}]
    cut = phases(cols, windows, 0.0, 4.0)
    assert [(p["name"], p["start_s"], p["end_s"]) for p in cut] == [
        ("before faults", 0.0, 2.0), ("kill", 2.0, 3.2), ("after kill", 3.2, 4.0)]


LOST_MASTER = """
import sys
from chaos_hooks.control.journal import Journal
j = Journal(sys.argv[1])
j.run_started({"run_id": "r1", "report_dir": sys.argv[2], "scenario": "s", "system": "shop", "target": "t.yaml",
               "host": "http://h", "values": {"product": "p-r1"}, "seed": 3, "nemesis_seed": None,
               "started_at": 100.0, "invariants": ["no_data_loss", "catch_up"],
               "faults": [{"name": "kill", "group": "", "action": "process.kill", "target": "worker", "at_s": 1.0,
                           "heal_after_s": 9.0, "description": "SIGKILL worker", "injected_at": None,
                           "healed_at": None, "error": None},
                          {"name": "later", "group": "", "action": "process.pause", "target": "api", "at_s": 30.0,
                           "heal_after_s": 1.0, "description": "SIGSTOP api", "injected_at": None,
                           "healed_at": None, "error": None}]})
j.intent("process.kill", "kill", "t.yaml", {"x": 1})
"""


def test_a_run_whose_master_died_gets_an_interrupted_verdict_once(tmp_path):
    """The journal's run record outlives its process: whoever finds it lost writes the interrupted verdict into
    the run's report dir, and closes it (a second look finds nothing; a verdict on disk is never overwritten)."""
    import json
    import subprocess
    import sys
    from chaos_hooks.control import lost_runs
    from chaos_hooks.control.journal import Journal
    path, report = str(tmp_path / "journal.jsonl"), tmp_path / "report"
    master = subprocess.run([sys.executable, "-c", LOST_MASTER, path, str(report)], capture_output=True, text=True)
    assert master.returncode == 0, master.stderr
    journal = Journal(path)
    (run,) = journal.lost_runs()
    journal.healed(journal.pending()[0]["id"])
    written = lost_runs.settle(journal, lambda r: lost_runs.lost_reason(r["owner_pid"], "SIGKILL", 107.5), at=107.5)
    assert [v["run_id"] for v in written] == ["r1"] and journal.lost_runs() == []
    v = json.loads((report / "verdict.json").read_text())
    assert v["status"] == "interrupted" and not v["passed"] and exit_code(v) == 3
    assert v["interrupted"]["at_s"] == 7.5
    assert v["interrupted"]["why"].startswith(f"master lost (pid {run['owner_pid']}, SIGKILL) at ")
    assert [(i["name"], i["status"]) for i in v["invariants"]] == [("no_data_loss", "unknown"),
                                                                     ("catch_up", "unknown")]
    kill, later = v["faults"]
    assert kill["injected_at"] is not None and kill["healed_at"] is not None and kill["error"] is None
    assert later["injected_at"] is None
    case = ElementTree.parse(report / "junit.xml").find(".//testcase[@name='interrupted']")
    assert case.find("error").get("type") == "interrupted" and "master lost" in case.find("error").text
    assert "INTERRUPTED" in render_table(v) and "history: none" in render_table(v)

    again = tmp_path / "again"
    subprocess.run([sys.executable, "-c", LOST_MASTER, path, str(again)], check=True)
    again.mkdir(exist_ok=True)
    (again / "verdict.json").write_text('{"kept": true}')  # it wrote its verdict, then died
    assert lost_runs.settle(journal, lambda r: "x") == [] and journal.lost_runs() == []
    assert json.loads((again / "verdict.json").read_text()) == {"kept": True}


def test_a_profile_with_nothing_to_watch_concludes_at_once_and_says_so(tmp_path):
    """No backlog and no persisted read: nothing could ever show the system catching up, so the wait is skipped
    (it used to take the whole bound) and the verdict says why there is no catch-up time."""
    path = tmp_path / "target.yaml"
    path.write_text("host: http://127.0.0.1:9\n")
    watch = CatchUpWatch(load_profile(str(path)), ctx=None, since=time.time()).start()
    assert not watch.observable and watch.greenlet is None  # nothing sampled through the run either
    started = time.monotonic()
    seen = watch.conclude(lambda: 0, bound=30.0)
    assert time.monotonic() - started < 1.0
    assert seen.unreadable and not seen.caught_up and seen.seconds is None
    assert seen.reason == "not observable: the target profile has no backlog or persisted read"
