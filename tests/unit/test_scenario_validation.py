"""Bad scenarios and arguments get one clear line naming file, line and field, and exit code 2; never a
traceback, and never after anything started."""
import textwrap
import time

import pytest

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec.scenario import load_scenario, preset_names
from helpers import run_cli

GOOD = """\
name: t
system: shop
load: {users: 2, run_time: 10s, user_classes: [OrderUser]}
values: {product: "p-{run_id}", stock: 5}
faults:
  - {name: k, action: process.kill, target: worker, at: 2s, heal_after: 3s}
invariants:
  no_data_loss: {}
  catch_up: {max: 5s}
  no_oversell: {initial: stock}
"""


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_presets_load_and_fit_their_systems(home, capsys):
    assert {"worker-crash", "flash-sale", "event-consumer-crash", "event-burst"} <= set(preset_names())
    wc = load_scenario("worker-crash")
    assert wc.values == {"product": "iphone-15-{run_id}", "stock": 100}
    assert [(f.action, f.target, f.at, f.heal_after) for f in wc.faults] == [("process.kill", "worker", 5.0, 10.0)]
    assert wc.invariants["catch_up"] == {"max": 30.0}
    from chaos_hooks.cli import main
    for name in preset_names():  # in this process: the same command, without a Python start per preset
        with pytest.raises(SystemExit) as done:
            main(["validate", name])
        out = capsys.readouterr().out
        assert done.value.code == 0 and f"{name}" in out and ": ok" in out, out


@pytest.mark.parametrize("bad, line, needle", [
    (GOOD.replace("action: process.kill", "action: process.explode"), 6, "faults.0.action: 'process.explode' is not one of"),
    (GOOD.replace("at: 2s", "at: soon"), 6, "'soon' is not a duration"),
    (GOOD.replace("at: 2s", "at: .nan"), 6, "not a finite duration"),
    (GOOD.replace("run_time: 10s", "run_time: .inf"), 3, "load.run_time"),
    (GOOD.replace("run_time: 10s", "run_time: ５s"), 3, "is not a duration"),
    (GOOD.replace("  no_data_loss: {}", "  no_data_lost: {}"), 8, "unknown invariant 'no_data_lost'"),
    (GOOD.replace("users: 2", "users: -1"), 3, "load.users: -1 is out of range"),
    (GOOD.replace("users: 2", "users: 1e20"), 3, "load.users"),
    (GOOD.replace("stock: 5", "stock: 1e20"), 4, "values.stock: no_oversell takes it as a whole number, got '1e20'"),
    (GOOD.replace("stock: 5", "stock: 1.0e+20"), 4, "values.stock: 1e+20 is out of range"),
    (GOOD.replace("catch_up: {max: 5s}", "catch_up: {maximum: 5s}"), 9, "unknown field 'maximum'"),
    (GOOD.replace("name: t\n", ""), None, "name: is required"),
    (GOOD.replace("values: {product", "values: {run_id: x, product"), 4, "values.run_id"),
    (GOOD.replace('"p-{run_id}"', '"p-{nope}"'), 4, "values may use only {run_id}"),
    (GOOD.replace("load: {", "load: {retry_share: 0.2, "), 3, "load.retry_share: unknown field 'retry_share'"),
    (GOOD.replace("load: {", "load: {settings: {retry: {a: 1}}, "), 3,
     "load.settings.retry: expected a number, string, boolean or a list of them"),
    (GOOD + "min_acked: -3\n", 11, "min_acked"),
    (GOOD + "plugins: [no.such.module]\n", 11, "plugin 'no.such.module' cannot be imported"),
])
def test_errors_name_file_line_and_field(tmp_path, bad, line, needle):
    path = write(tmp_path, bad)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert needle in message, message
    assert message.startswith(f"{path}:{line}:" if line else path), message


def test_cli_validate_exit_codes(tmp_path, home):
    code, out = run_cli(["validate", write(tmp_path, GOOD)], home)
    assert code == 0 and "ok" in out and "fits system shop" in out
    bad = write(tmp_path, GOOD.replace("at: 2s", "at: later"), "bad.yaml")
    code, out = run_cli(["validate", bad], home)
    assert code == 2 and out.strip().count("\n") == 0 and "Traceback" not in out
    assert f"{bad}:6: faults.0.at" in out


def test_fault_after_end_of_load_is_an_error_not_dropped(home):
    code, out = run_cli(["run", "worker-crash", "--run-time", "4s"], home)
    assert code == 2
    assert "faults.kill-worker.at: starts at 5s but the load ends at 4s" in out


@pytest.mark.parametrize("args, needle", [
    (["run", "no-such-preset"], "unknown scenario 'no-such-preset'"),
    (["run", "worker-crash", "--run-time", "fortnight"], "--run-time: 'fortnight' is not a duration"),
    (["run", "worker-crash", "--run-time", ""], "--run-time: must not be empty"),
    (["run", "worker-crash", "--run-time", "０s"], "--run-time"),
    (["run", "worker-crash", "--bugs", "nonsense"],
     "--bugs: unknown bug switch 'nonsense' for system shop (known: ack-before-commit, non-atomic-reserve"),
    (["run", "worker-crash", "--report-dir", "/proc/nope"], "--report-dir /proc/nope: not writable"),
    (["run", "worker-crash", "--workers", "-1"], "--workers: -1 is out of range"),
    (["show", "/missing.yaml"], "/missing.yaml: file not found"),
    (["validate", "worker-crash", "--target", "/nonexistent/target.yaml"], "target profile not found"),
])
def test_bad_arguments_are_exit_2_within_a_second(home, args, needle):
    started = time.monotonic()
    code, out = run_cli(args, home)
    assert code == 2 and needle in out, out
    assert out.strip().count("\n") == 0 and "Traceback" not in out
    assert time.monotonic() - started < 3  # the process start included; nothing was started


def test_unknown_user_class_is_located(tmp_path, home):
    path = write(tmp_path, GOOD.replace("user_classes: [OrderUser]", "user_classes: [OrderUsr]"))
    code, out = run_cli(["run", path, "--run-time", "5s"], home)
    assert code == 2, out[-2000:]
    assert f"{path}:3: load.user_classes: 'OrderUsr' is not a user class of the locustfile (it has: OrderUser)" in out
