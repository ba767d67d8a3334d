"""`validate --locustfile`: the locustfile's user classes, checked as `run` checks them once Locust has started —
without starting anything. The locustfile is imported in a child Python (locustfile_classes.py), as Locust
would import it, so its code and Locust's monkey-patching stay out of this process."""
import json
import os
import subprocess
import sys
import tempfile

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec.user_classes import check_user_classes

IMPORT_TIMEOUT_S = 60


def locustfile_classes(locustfile: str) -> dict:
    """name -> {line, weight, fixed_count}; ScenarioError (located) when the file does not import."""
    if not os.path.isfile(locustfile):
        raise ScenarioError(f"--locustfile: {locustfile} not found")
    with tempfile.TemporaryDirectory(prefix="locust-chaos-classes-") as tmp:
        out = os.path.join(tmp, "classes.json")
        try:
            proc = subprocess.run([sys.executable, "-m", "chaos_hooks.locust_plugin.locustfile_classes",
                                   locustfile, out], capture_output=True, text=True, timeout=IMPORT_TIMEOUT_S,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ScenarioError(f"{locustfile}: importing it took over {IMPORT_TIMEOUT_S}s (does it do work at "
                                f"import time?)") from None
        if not os.path.exists(out):
            last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            raise ScenarioError(f"{locustfile}: the locustfile could not be imported: {last[:300]}")
        with open(out) as f:
            found = json.load(f)
    if "error" in found:
        raise ScenarioError(found["error"])
    return found["classes"]


def check_locustfile(locustfile: str, scenario=None) -> list[str]:
    """Lines to print: what was found, then any warning. Raises ScenarioError (exit 2) for a mistake."""
    classes = locustfile_classes(locustfile)
    warnings = check_user_classes(locustfile, classes, scenario)
    used = scenario.load.user_classes if scenario is not None and scenario.load.user_classes else list(classes)
    return [f"locustfile {locustfile}: user classes {', '.join(used)}"
            + (f" (of {', '.join(sorted(classes))})" if set(used) != set(classes) else "")] + warnings
