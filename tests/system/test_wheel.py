"""The wheel is the product: built from the repo and installed into a fresh virtualenv (outside the repo), it
lists the presets and runs one end to end, and puts no generic top-level package into site-packages."""
import os
import shutil
import subprocess
import sys
import zipfile

from helpers import BIN, ROOT

TOP_LEVEL = {"chaos_hooks", "locust_chaos_systems", "locust_chaos.pth"}


def test_wheel_installs_and_runs_a_preset(tmp_path):
    dist = tmp_path / "dist"
    shutil.rmtree(os.path.join(ROOT, "build"), ignore_errors=True)  # setuptools would reuse an old build/lib
    subprocess.run([os.path.join(BIN, "pip"), "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    ROOT], check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("locust_chaos-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == TOP_LEVEL
    assert "chaos_hooks/scenarios/worker-crash.yaml" in names
    assert "locust_chaos_systems/locustfiles/shop.py" in names

    venv = tmp_path / "venv"
    # A venv without its own pip (ensurepip alone took 5 s), filled by this pip through --python.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    # --no-compile: pip's byte-compiling of every dependency is a third of the install; imports compile what they use
    pip = subprocess.run([os.path.join(BIN, "pip"), "--python", str(venv / "bin" / "python"), "install", "-q",
                          "--no-compile", str(wheel)], capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr[-2000:]
    cli = str(venv / "bin" / "locust-chaos")
    work = tmp_path / "elsewhere"
    work.mkdir()
    # Without PYTHONDONTWRITEBYTECODE (set on CI machines) the first process caches what it compiles for the others.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")}
    env["LOCUST_CHAOS_HOME"] = str(tmp_path / "home")
    listed = subprocess.run([cli, "list"], cwd=work, capture_output=True, text=True, timeout=120, env=env)
    assert listed.returncode == 0, listed.stderr
    presets = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    assert {"worker-crash", "flash-sale", "event-consumer-crash"} <= presets

    run = subprocess.run([cli, "run", "flash-sale", "--run-time", "4s", "--report-dir", str(work / "report")],
                         cwd=work, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert (work / "report" / "verdict.json").exists()
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import chaos_hooks, sys; print(chaos_hooks.__file__)"],
                          cwd=work, capture_output=True, text=True, timeout=60, env=env).stdout
    assert str(venv) in site  # the installed copy, not the repo's
