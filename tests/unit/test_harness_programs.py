"""Faults refuse the harness's own programs by name (Locust, locust-chaos) but act on the fault proxy, a stack
component like any other, however it was started."""
import pytest

from chaos_hooks.targets.ownership import is_harness_program

PY = "/work/.venv/bin/python3.11"


@pytest.mark.parametrize("argv", [
    ["/usr/bin/locust", "-f", "x.py"], ["locust-chaos", "run", "worker-crash"], [PY, "/v/bin/locust", "-f", "x.py"],
    [PY, "-m", "locust", "--worker"], [PY, "-m", "chaos_hooks.cli", "run", "api-kill"]])
def test_the_harness_is_refused(argv):
    assert is_harness_program(argv)


@pytest.mark.parametrize("argv", [
    ["locust-chaos", "proxy", "--port", "8474"], [PY, "-m", "chaos_hooks.cli", "proxy", "--port", "1"],
    [PY, "-m", "chaos_hooks.proxy", "--port", "1", "--pidfile", "p"], [PY, "-m", "myapp.worker"],
    ["redis-server", "--port", "6379"]])
def test_the_proxy_and_the_system_are_not(argv):
    assert not is_harness_program(argv)
