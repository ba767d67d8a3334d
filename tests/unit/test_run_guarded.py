"""How every entry point ends (common.internal_error.run_guarded): a ChaosError is one line and its exit code,
Ctrl-C 130, anything else one line pointing at error.log and exit 3 — never a traceback, never exit 1."""
import os
import subprocess
import sys

import pytest

from chaos_hooks.common.errors import ScenarioError, TargetUnreachable
from chaos_hooks.common.internal_error import run_guarded


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCUST_CHAOS_HOME", str(tmp_path))
    return tmp_path


def raising(err):
    def action():
        raise err
    return action


@pytest.mark.parametrize("err, code", [(ScenarioError("s.yaml:3: faults.at: not a duration"), 2),
                                       (TargetUnreachable("db 127.0.0.1:5: refused"), 3)])
def test_a_chaos_error_is_one_line_and_its_exit_code(err, code, home, capsys):
    assert run_guarded(raising(err), "prog") == code
    assert capsys.readouterr().err == f"prog: error: {err}\n"
    assert not os.path.exists(home / "error.log")


def test_ctrl_c_is_130_and_a_result_passes_through(home, capsys):
    assert run_guarded(raising(KeyboardInterrupt()), "prog") == 130
    assert run_guarded(lambda: 1, "prog") == 1
    assert capsys.readouterr().err == ""


def test_anything_else_is_an_internal_error_with_its_traceback_in_error_log(home, capsys):
    assert run_guarded(raising(ZeroDivisionError("a bug")), "prog") == 3
    err = capsys.readouterr().err
    assert err == f"locust-chaos: internal error: ZeroDivisionError: a bug, details in {home}/error.log\n"
    log = (home / "error.log").read_text()
    assert "Traceback" in log and "raise err" in log


def test_the_embedded_proxy_entry_point_ends_the_same_way(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "redis"}]')
    done = subprocess.run([sys.executable, "-m", "chaos_hooks.proxy", "--port", "0", "--config", str(bad)],
                          capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, LOCUST_CHAOS_HOME=str(tmp_path)))
    assert done.returncode == 2
    assert done.stderr == f"locust-chaos proxy: error: {bad}: missing required field: upstream at proxy 1\n"
