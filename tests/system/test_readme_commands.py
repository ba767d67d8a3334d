"""The README runs as written: every ```sh block, in order, as one bash -e session in the repository (so the
Quick start's `. .venv/bin/activate` holds for the blocks after it, as in a reader's terminal)."""
import os
import re
import shutil
import subprocess

from helpers import ROOT, load_verdict


def sh_blocks() -> list[str]:
    text = open(os.path.join(ROOT, "README.md")).read()
    return re.findall(r"```sh\n(.*?)\n```", text, re.S)


def test_every_sh_block_of_the_readme_runs(tmp_path):
    blocks = sh_blocks()
    assert len(blocks) >= 4 and any("make demo" in b for b in blocks)
    env = dict(os.environ, LOCUST_CHAOS_HOME=str(tmp_path / "home"))
    env.pop("VIRTUAL_ENV", None)
    shutil.rmtree(os.path.join(ROOT, "reports", "chaos", "readme"), ignore_errors=True)
    script = "set -euo pipefail\n" + "\n".join(f"echo '>>> README block {i}'\n{b}" for i, b in enumerate(blocks))
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"a README block failed:\n{out[-5000:]}"
    assert all(f">>> README block {i}" in done.stdout for i in range(len(blocks)))
    assert "exit 1: the checker caught the seeded bug" in done.stdout
    verdict = load_verdict(os.path.join(ROOT, "reports", "chaos", "readme"))
    assert verdict["scenario"] == "api-kill" and verdict["status"] == "valid" and verdict["values"]["stock"] == 300
