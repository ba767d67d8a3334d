"""Bad input gets one clear line naming file, line and field, and exit code 2; never a traceback."""
import textwrap

import pytest

from chaos_hooks.errors import ScenarioError
from chaos_hooks.scenario import load_scenario, preset_names
from helpers import run_cli, stack_leftovers

GOOD = """\
name: t
load: {users: 2, run_time: 10s}
sale: {product_id: x, quantity: 5}
faults:
  - {name: k, action: process.kill, target: worker, at: 2s, heal_after: 3s}
invariants:
  no_data_loss: {}
  catch_up: {max: 5s}
"""


def write(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_presets_load():
    assert {"worker-crash", "flash-sale"} <= set(preset_names())
    wc = load_scenario("worker-crash")
    assert wc.sale.quantity == 100
    assert [(f.action, f.target, f.at, f.heal_after) for f in wc.faults] == [("process.kill", "worker", 5.0, 20.0)]
    assert wc.invariants["catch_up"] == {"max": 30.0}


@pytest.mark.parametrize("bad, line, needle", [
    (GOOD.replace("action: process.kill", "action: process.explode"), 5, "unknown fault action 'process.explode'"),
    (GOOD.replace("at: 2s", "at: soon"), 5, "'soon' is not a duration"),
    (GOOD.replace("  no_data_loss: {}", "  no_data_lost: {}"), 7, "unknown invariant 'no_data_lost'"),
    (GOOD.replace("users: 2", "users: -1"), 2, "load.users"),
    (GOOD.replace("catch_up: {max: 5s}", "catch_up: {maximum: 5s}"), 8, "unknown field 'maximum'"),
    (GOOD.replace("name: t\n", ""), None, "field 'name' is required"),
])
def test_errors_name_file_line_and_field(tmp_path, bad, line, needle):
    path = write(tmp_path, bad)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert needle in message
    assert message.startswith(path)
    if line:
        assert message.startswith(f"{path}:{line}:")


def test_broken_yaml_names_the_line(tmp_path):
    path = write(tmp_path, GOOD.replace("invariants:", "invariants: [\n"))
    with pytest.raises(ScenarioError, match=r":\d+: not valid YAML"):
        load_scenario(path)


def test_cli_validate_exit_codes(tmp_path, home):
    good = write(tmp_path, GOOD)
    code, out = run_cli(["validate", good], home)
    assert code == 0 and "ok" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("at: 2s", "at: later"))
    code, out = run_cli(["validate", str(bad)], home)
    assert code == 2
    assert out.strip().count("\n") == 0 and "Traceback" not in out
    assert f"{bad}:5: faults.0.at" in out


def test_fault_after_end_of_load_is_an_error_not_dropped(home):
    code, out = run_cli(["run", "worker-crash", "--run-time", "4s"], home)
    assert code == 2
    assert "faults.kill-worker.at: starts at 5s but the load ends at 4s" in out
    assert "Traceback" not in out


def test_unknown_preset_and_bad_arguments(home):
    code, out = run_cli(["run", "no-such-preset"], home)
    assert code == 2 and "unknown scenario 'no-such-preset'" in out and "worker-crash" in out
    code, out = run_cli(["run", "worker-crash", "--run-time", "fortnight"], home)
    assert code == 2 and "'fortnight' is not a duration" in out


def test_unknown_target_component(tmp_path, home):
    target = tmp_path / "target.yaml"
    target.write_text("host: http://127.0.0.1:9\nredis_url: redis://127.0.0.1:9\ndatabase_url: postgresql://x\n"
                      "components: {api: {pidfile: /nonexistent.pid}}\n")
    code, out = run_cli(["validate", write(tmp_path, GOOD), "--target", str(target)], home)
    assert code == 2 and "unknown target component 'worker'" in out and "known: api" in out


def test_run_with_an_unknown_fault_target_stops_before_load(tmp_path, home):
    path = write(tmp_path, GOOD.replace("target: worker", "target: wroker"))
    code, out = run_cli(["run", path], home)
    assert code == 2, out[-2000:]
    assert "locust-chaos: error: faults.k.target: unknown target component 'wroker'" in out
    assert "known: api, postgres, proxy, redis, worker" in out and "Traceback" not in out
    assert stack_leftovers(out) == []


@pytest.mark.parametrize("profile, needle", [
    ("host: [unclosed\n", "not valid YAML/JSON"),
    ("host: http://127.0.0.1:9\nredis_url: redis://x\n", "field 'database_url' is required"),
    ("host: h\nredis_url: r\ndatabase_url: d\ncomponents: {worker: {start: [x]}}\n", "components.worker.pidfile"),
])
def test_bad_target_profiles_are_one_line_exit_2(tmp_path, home, profile, needle):
    target = tmp_path / "target.yaml"
    target.write_text(profile)
    code, out = run_cli(["validate", write(tmp_path, GOOD), "--target", str(target)], home)
    assert code == 2 and needle in out and out.strip().count("\n") == 0
