"""`locust -f LOCUSTFILE --help` lists the chaos options, although Locust prints its help before it imports the
locustfile that adds them (the package's .pth hook, chaos_hooks/locust_help.py); any other interpreter start
in the environment imports nothing of the harness."""
import os
import subprocess
import sys

from chaos_hooks.locust_plugin import options as locust_options
from helpers import BIN, ROOT


def test_locust_help_lists_the_chaos_options():
    out = subprocess.run([os.path.join(BIN, "locust"), "-f", "locustfiles/shop.py", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for flag, spec in locust_options.options([]):
        assert flag in out.stdout, flag
    assert "worker-crash" in out.stdout  # --scenario's choices: the presets


def test_other_starts_import_nothing_of_the_harness():
    out = subprocess.run([sys.executable, "-c", "import sys; print(sorted(m for m in sys.modules if "
                          "m.startswith(('chaos_hooks', 'locust'))))"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out
