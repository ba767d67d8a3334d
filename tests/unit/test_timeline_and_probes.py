"""The timeline (repeats, a seeded nemesis), probe expectations, guards' figures and the phase table, decided
from hand-built samples and histories."""
import textwrap

import numpy as np
import pytest

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.control.guards import window_figure
from chaos_hooks.history import FAIL, INFO, OK
from chaos_hooks.verify.phases import phases
from chaos_hooks.control.probe_checks import evaluate
from chaos_hooks.spec.probes import GuardSpec
from chaos_hooks.spec.scenario import load_scenario
from chaos_hooks.spec.timeline import nemesis_schedule

BASE = """\
name: t
load: {users: 1, run_time: 30s}
invariants: {no_data_loss: {}}
"""


def scenario(tmp_path, extra: str):
    path = tmp_path / "s.yaml"
    path.write_text(BASE + textwrap.dedent(extra))
    return load_scenario(str(path))


def test_repeated_faults_expand_into_occurrences(tmp_path):
    s = scenario(tmp_path, "faults: [{name: blip, action: postgres.terminate_backends, target: db, at: 2s, "
                           "heal_after: 1s, every: 5s, count: 3}]\n")
    assert [(f.name, f.at, f.heal_after, f.group) for f in s.faults] == [
        ("blip#1", 2.0, 1.0, "blip"), ("blip#2", 7.0, 1.0, "blip"), ("blip#3", 12.0, 1.0, "blip")]


@pytest.mark.parametrize("extra, needle", [
    ("faults: [{name: k, action: process.kill, target: w, at: 1s, every: 5s, count: 2}]\n",
     "a repeated fault needs a heal_after shorter than every"),
    ("faults: [{name: k, action: process.kill, target: w, at: 1s, every: 5s}]\n", "every and count go together"),
    ("faults: [{name: k, action: network.latency, target: c, at: 1s, stream: sideways}]\n", "'sideways' is not one of"),
    ("nemesis: {end: 2s, interval: [1s, 2s], duration: [3s, 4s], faults: [{action: process.kill, target: w}]}\n",
     "leaves no room"),
    ("nemesis: {end: 20s, interval: [2s, 1s], duration: [1s, 2s], faults: [{action: process.kill, target: w}]}\n",
     "max 1s is less than min 2s"),
    ("probes: [{name: p, http: GET /r, expect: [{phase: during, equals: 503}]}]\n", "during and after name a fault"),
    ("probes: [{name: p, http: GET /r, read: x, expect: [{phase: always, equals: 1}]}]\n", "exactly one of http"),
    ("probes: [{name: p, http: GET /r, expect: [{phase: after, fault: nope, equals: 1}]}]\n", None),
    ("guards: [{name: g, probe: nope, failures: 3, equals: 200}]\n", "'nope' is not one of"),
    ("guards: [{name: g, error_ratio: 1.5}]\n", "1.5 is out of range"),
])
def test_timeline_probe_and_guard_mistakes_are_located(tmp_path, extra, needle):
    if needle is None:  # found when the scenario meets its faults (fit), not while parsing
        from chaos_hooks.spec.probes import check_probe_faults
        with pytest.raises(ScenarioError, match="fault 'nope', which the scenario does not have"):
            check_probe_faults(scenario(tmp_path, extra))
        return
    with pytest.raises(ScenarioError) as err:
        scenario(tmp_path, extra)
    assert needle in str(err.value) and str(err.value).startswith(f"{tmp_path / 's.yaml'}:4:"), str(err.value)


NEMESIS = """\
nemesis:
  start: 2s
  end: 20s
  interval: [0.5s, 1s]
  duration: [1s, 2s]
  faults:
    - {name: kill, action: process.kill, target: worker}
    - {name: slow, action: network.latency, target: cache, latency: 100}
"""


def test_the_same_seed_gives_the_same_schedule_within_its_bounds(tmp_path):
    s = scenario(tmp_path, NEMESIS)
    first, again, other = (nemesis_schedule(s.nemesis, seed) for seed in (5, 5, 6))
    assert [(f.name, f.at, f.heal_after) for f in first] == [(f.name, f.at, f.heal_after) for f in again]
    assert [(f.at, f.heal_after) for f in first] != [(f.at, f.heal_after) for f in other]
    for a, b in zip(first, first[1:]):
        assert a.at + a.heal_after + 0.5 <= b.at + 1e-9  # one at a time, with the quiet time between
    assert first[0].at >= 2.5 and first[-1].at + first[-1].heal_after <= 20
    assert {f.group for f in first} <= {"kill", "slow"} and len(first) >= 5
    assert s.timeline(5)[0].name == first[0].name


def probe(tmp_path, expect: str):
    return scenario(tmp_path, f"probes: [{{name: ready, http: GET /ready, expect: [{expect}]}}]\n").probes[0]


def samples(*spans):
    """(start, end, value) spans sampled every 0.1 s."""
    return [(round(t, 2), v) for start, end, v in spans for t in np.arange(start, end, 0.1)]


FAULT = [{"name": "down", "group": "down", "injected_at": 10.0, "healed_at": 14.0}]


def test_a_readiness_flip_is_valid_with_its_flip_times(tmp_path):
    p = probe(tmp_path, "{phase: before, equals: 200}, {phase: during, fault: down, equals: 503}, "
                        "{phase: after, fault: down, equals: 200, within: 5s}")
    s = samples((0, 10.3, 200), (10.3, 15.2, 503), (15.2, 20, 200))
    result = evaluate(p, s, FAULT, run_start=0.0, sampled_until=20.0)
    assert result.status == "valid", result.summary
    assert "during down: = 503 after 0.30s" in result.summary and "after down: = 200 after 1.20s" in result.summary
    assert result.figure == pytest.approx(1.2)


@pytest.mark.parametrize("spans, until, status, needle", [
    (((0, 10.3, 200), (10.3, 20, 503)), 20.0, "invalid", "not = 200 within 5.0s"),        # never recovered
    (((0, 10.3, 200), (10.3, 12, 503), (12, 13, 200), (13, 15.2, 503), (15.2, 20, 200)), 20.0, "invalid",
     "200 at +2.00s after holding"),                                                      # flapped during the fault
    (((0, 5, 200), (5, 6, 500), (6, 10.3, 200), (10.3, 15.2, 503), (15.2, 20, 200)), 20.0, "invalid",
     "before: = 200 broken: 500 at +5.00s"),
    (((0, 10.3, 200), (10.3, 15.0, 503)), 15.0, "unknown", "undecided"),                  # sampling ended too soon
])
def test_broken_or_undecided_expectations(tmp_path, spans, until, status, needle):
    p = probe(tmp_path, "{phase: before, equals: 200}, {phase: during, fault: down, equals: 503}, "
                        "{phase: after, fault: down, equals: 200, within: 5s}")
    result = evaluate(p, samples(*spans), FAULT, run_start=0.0, sampled_until=until)
    assert result.status == status and needle in result.summary, result.summary


def columns(ops):
    """ops: (invoke, complete, outcome, status)."""
    t0, t1, outcome, status = (np.array(c) for c in zip(*ops))
    return {"t0": t0.astype(float), "t1": t1.astype(float), "outcome": outcome.astype(np.uint8),
            "status": status.astype(np.int16)}


def test_guard_figures_over_the_sliding_window():
    ops = [(t, t + 0.01, OK, 202) for t in np.arange(0, 10, 0.1)] + \
          [(t, t + 2.0, INFO, 503) for t in np.arange(10, 12, 0.05)] + [(12.0, 12.5, FAIL, 0)]
    cols = columns(ops)
    ratio = GuardSpec("e", "error_ratio", threshold=0.5, window=3.0, min_ops=5)
    assert window_figure(ratio, cols, now=9.5) == 0.0
    assert window_figure(ratio, cols, now=14.0) == pytest.approx(1.0)  # 503s and a refused request: unanswered
    slow = GuardSpec("s", "p99_ms", threshold=100, window=3.0, min_ops=5)
    assert window_figure(slow, cols, now=9.5) == pytest.approx(10, abs=0.5)
    assert window_figure(GuardSpec("x", "p99_ms", window=1.0, min_ops=500), cols, now=9.5) is None


def test_phases_cut_at_every_injection_and_heal():
    ops = [(t, t + 0.005, OK, 202) for t in np.arange(0, 10, 0.1)] + \
          [(t, t + 0.2, OK, 202) for t in np.arange(10, 14, 0.1)] + \
          [(t, t + 0.005, OK, 202) for t in np.arange(14, 20, 0.1)]
    table = phases(columns(ops), [{"name": "slow", "injected_at": 10.0, "healed_at": 14.0}], 0.0, 20.0)
    assert [(p["name"], p["start_s"], p["end_s"], p["requests"]) for p in table] == [
        ("before faults", 0.0, 10.0, 100), ("slow", 10.0, 14.0, 40), ("after slow", 14.0, 20.0, 60)]
    assert table[1]["p50_ms"] == pytest.approx(200, abs=1) and table[0]["p50_ms"] == pytest.approx(5, abs=1)
    assert all(p["ok_share"] == 1.0 for p in table)
