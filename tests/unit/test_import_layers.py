"""The flow runs one way: the layer contract in pyproject.toml ([tool.importlinter], checked by import-linter) and
no import cycle at all among chaos_hooks' modules; importing the history API loads neither Locust nor the plugin."""
import os
import subprocess
import sys

from helpers import BIN, ROOT


def test_layer_contract_is_kept():
    out = subprocess.run([os.path.join(BIN, "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def loaded_by(statements: str, prefixes: tuple) -> str:
    """Which modules starting with `prefixes` a fresh interpreter holds after running `statements`."""
    code = f"import sys; {statements}; print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))"
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_history_api_imports_no_plugin_and_no_locust():
    assert loaded_by("from chaos_hooks import history, run", ("locust", "chaos_hooks.locust_plugin", "gevent")) == "[]"


def test_no_import_cycle_among_modules():
    """Module-level imports only, as Python runs them at import time (grimp's graph, import-linter's engine)."""
    import grimp
    graph = grimp.build_graph("chaos_hooks")
    cycles = [m for m in graph.modules
              if any(graph.find_shortest_chain(importer=imp, imported=m) for imp in graph.find_modules_directly_imported_by(m))]
    assert cycles == []


def test_the_cli_and_the_proxy_start_without_the_datastore_and_docker_clients():
    """Every command imports the profile code (the embedded proxy, `python -m chaos_hooks.proxy`, not even that); the
    client libraries load at their first use (chaos_hooks.common.lazy), where they were half of each start."""
    clients = ("docker", "psycopg", "redis", "pika")
    assert loaded_by("from chaos_hooks.cli import build_parser; build_parser()", clients) == "[]"


def test_a_lazy_module_is_the_module_at_first_use():
    from chaos_hooks.common.lazy import lazy_module
    json_module = lazy_module("json")
    import json
    assert json_module.loads("[1]") == [1] and json_module.JSONDecodeError is json.JSONDecodeError
    missing = lazy_module("no_such_module_anywhere")  # binding it is harmless; using it says what is missing
    try:
        missing.anything
    except ModuleNotFoundError as err:
        assert err.name == "no_such_module_anywhere"
    else:
        raise AssertionError("a missing module imported")
