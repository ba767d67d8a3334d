"""The pure parts of matrix, replay and shrink: delta debugging over a fake oracle, the shrinker's phases and
budget, the campaign table, matrix.json and junit.xml from rows, scenario files written from a schedule, and
which presets a target profile can run."""
import json
import os
from xml.etree import ElementTree

import pytest

from chaos_hooks.common.safe_yaml import load_file
from chaos_hooks.control.shrinker import Budget, Candidate, Shrinker, ddmin
from chaos_hooks.report import matrix
from chaos_hooks.spec import scenario_file
from chaos_hooks.spec.scenario import load_scenario, parse_scenario
from chaos_hooks.spec.timeline import FaultSpec


def test_ddmin_finds_the_one_item_that_matters_in_few_tries():
    tried = []

    def fails(items):
        tried.append(list(items))
        return 5 in items
    assert ddmin(list(range(8)), fails) == [5]
    assert len(tried) <= 8  # halving: 2 + 2 + 2 tries, not 2^8


def test_ddmin_keeps_an_interacting_pair_and_order():
    assert ddmin(list("abcdefgh"), lambda xs: "b" in xs and "g" in xs) == ["b", "g"]
    assert ddmin(list("abcdef"), lambda xs: {"a", "c", "f"} <= set(xs)) == ["a", "c", "f"]


def test_ddmin_of_a_failure_needing_everything_returns_everything():
    assert ddmin([1, 2, 3], lambda xs: len(xs) == 3) == [1, 2, 3]


def fault(name, action="process.kill", target="worker", at=2.0, heal=2.0):
    return FaultSpec(name, action, target, at, heal, {})


def start_candidate():
    return Candidate(faults=(fault("slow", "network.latency", "cache", 1.0, 1.0), fault("kill", at=4.0, heal=3.0),
                             fault("blip", "postgres.terminate_backends", "db", 5.0, 1.0)),
                     users=20, spawn_rate=20, run_time=12.0)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_shrinker_drops_faults_then_shortens_and_moves_earlier_then_reduces_load():
    clock = FakeClock()
    steps = []

    def oracle(c):  # a kill held at least 1 s, with at least 5 users, fails; nothing else matters
        clock.now += 20
        return any(f.action == "process.kill" and f.heal_after >= 1.0 for f in c.faults) and c.users >= 5
    shrinker = Shrinker(oracle, Budget(10_000, clock=clock), lambda c, failed, phase: steps.append((phase, failed)))
    best, finished = shrinker.shrink(start_candidate())
    assert finished
    (kill,) = best.faults
    assert kill.name == "kill" and kill.at == 0.5 and 1.0 <= kill.heal_after < 2.0
    assert best.run_time < 12.0 and best.run_time >= kill.at + kill.heal_after
    assert 5 <= best.users < 10
    phases = [p for p, _ in steps]
    assert phases.index("drop faults") < phases.index("shorten faults") < phases.index("reduce load")
    assert len(shrinker.tried) == len(steps) + 1  # every candidate ran once (the start was known to fail)


def test_shrinker_stops_when_the_budget_cannot_pay_for_another_run():
    clock = FakeClock()
    runs = []

    def oracle(c):
        clock.now += 30
        runs.append(c)
        return any(f.name == "kill" for f in c.faults)
    best, finished = Shrinker(oracle, Budget(70, clock=clock)).shrink(start_candidate())
    assert not finished and len(runs) == 2  # 30 s + 30 s used: a third 30 s run would end after 70 s
    assert any(f.name == "kill" for f in best.faults) and len(best.faults) <= 2


def test_scenario_file_with_a_schedule_parses_back_to_that_schedule(tmp_path):
    original = load_scenario("random-nemesis")
    drawn = original.timeline(29)
    keep = [f for f in drawn if f.action == "process.kill"][:1] + drawn[:1]
    data = scenario_file.with_schedule(load_file(original.source).data, keep, 7, 7, 9.5, "nem-shrunk")
    path = tmp_path / "shrunk.yaml"
    scenario_file.write(str(path), data, "shrunk\nfrom random-nemesis")
    back = load_scenario(str(path))
    assert back.nemesis is None and back.name == "nem-shrunk" and back.load.users == 7
    assert back.load.run_time == 9.5
    assert sorted((f.name, f.action, f.target, f.at, f.heal_after) for f in back.faults) == \
        sorted({(f.name, f.action, f.target, f.at, f.heal_after) for f in keep})
    assert path.read_text().startswith("# shrunk\n# from random-nemesis\n")


def test_probe_expectations_on_dropped_faults_are_dropped():
    s = load_scenario("redis-outage")
    data = scenario_file.with_schedule(load_file(s.source).data, [], 5, 5, 6.0)
    back = parse_scenario(type(load_file(s.source))(data, {}, "mem.yaml"))
    assert [e.phase for p in back.probes for e in p.expect] == ["before"]


def rows_and_verdicts():
    kill = load_scenario("worker-crash")
    sale = load_scenario("flash-sale")
    failed = {"scenario": "worker-crash", "status": "invalid", "run_id": "r1", "seed": 1, "nemesis_seed": None,
              "report_dir": "/x/worker-crash", "harness_problems": [], "catch_up_s": None,
              "invariants": [{"name": "no_data_loss", "status": "invalid", "summary": "lost 73 of 100", "figure": 73},
                             {"name": "no_oversell", "status": "unknown", "summary": "undecided", "figure": None},
                             {"name": "no_duplicates", "status": "valid", "summary": "ok", "figure": 0}],
              "phases": [{"name": "before faults", "ok_share": 1.0, "p99_ms": 12.3},
                         {"name": "kill-worker", "ok_share": 0.5, "p99_ms": 250.0}]}
    passed = {"scenario": "flash-sale", "status": "valid", "run_id": "r2", "seed": 2, "report_dir": "/x/flash-sale",
              "harness_problems": [], "catch_up_s": 1.254, "phases": [],
              "invariants": [{"name": "no_data_loss", "status": "valid", "summary": "ok", "figure": 0}]}
    rows = [matrix.row_from_verdict("worker-crash", kill, failed, "/camp/worker-crash"),
            matrix.row_from_verdict("flash-sale", sale, passed, "/camp/flash-sale"),
            matrix.row_without_verdict("event-burst", load_scenario("event-burst"), matrix.SKIPPED,
                                       "needs the read 'backlog'"),
            matrix.row_without_verdict("db-outage", load_scenario("db-outage"), matrix.NOT_RUN,
                                       "the campaign was interrupted")]
    return rows, {"worker-crash": failed, "flash-sale": passed}


def test_matrix_table_has_the_seed_shape_and_a_final_line():
    rows, _ = rows_and_verdicts()
    text = matrix.render_table(rows, "/camp")
    lines = text.splitlines()
    assert lines[0].split() == ["preset", "what", "fails", "expected", "result", "key", "figures", "report"]
    wc = next(ln for ln in lines if ln.startswith("worker-crash"))
    assert "process.kill worker @5s for 10s" in wc and "zero data loss, no overselling" in wc
    assert "FAIL (fails no_data_loss)" in wc and "lost 73, oversold -, dup 0" in wc and "/camp/worker-crash" in wc
    assert "kill-worker: 50% p99 250ms" in text and "catch-up 1.3s" in text
    assert "SKIPPED (needs the read 'backlog')" in text and "NOT RUN" in text
    assert lines[-1] == ("locust-chaos matrix: INVALID (4 presets: 1 pass, 1 fail, 1 skipped, 1 not run); "
                         "report /camp/matrix.html")


@pytest.mark.parametrize("statuses, code", [(["valid", "skipped"], 0), (["valid", "not run"], 3),
                                            (["interrupted", "valid"], 3), (["unknown", "invalid"], 1),
                                            ([], 0)])
def test_exit_code_is_the_worst_verdict(statuses, code):
    assert matrix.exit_code([{"status": s} for s in statuses]) == code


def test_campaign_files_agree_with_the_rows(tmp_path):
    rows, verdicts = rows_and_verdicts()
    matrix.write_campaign(str(tmp_path), rows, verdicts)
    doc = json.loads((tmp_path / "matrix.json").read_text())
    assert doc["status"] == "invalid" and [p["status"] for p in doc["presets"]] == \
        ["invalid", "valid", "skipped", "not run"]
    suites = ElementTree.parse(tmp_path / "junit.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["locust-chaos." + r["name"] for r in rows]
    assert [s.get("failures") for s in suites] == ["1", "0", "0", "0"]
    assert [s.get("skipped") for s in suites] == ["0", "0", "1", "1"]
    page = (tmp_path / "matrix.html").read_text()
    assert os.path.relpath("/camp/worker-crash/report.html", str(tmp_path)) in page


def test_a_target_profile_lacking_a_role_skips_the_preset_and_names_it(tmp_path, home):
    from chaos_hooks.cli.matrix_cmd import plan
    shop = open(os.path.join(os.path.dirname(load_scenario("worker-crash").source), "..", "..",
                             "locust_chaos_systems", "shop", "profile.yaml")).read()
    profile = tmp_path / "shop.yaml"
    profile.write_text(shop + "host: http://127.0.0.1:1\n"
                              "datastores: {db: 'postgresql://127.0.0.1:1/x', cache: 'redis://127.0.0.1:1/0'}\n"
                              "components: {worker: {start: ['true']}, api: {start: ['true']}}\n")
    planned = {name: why for name, _, why in plan(["worker-crash", "event-consumer-crash", "db-latency"],
                                                  str(profile), None)}
    assert planned["worker-crash"] is None
    assert "consumer" in planned["event-consumer-crash"]
    assert "db" in planned["db-latency"] and planned["db-latency"]
