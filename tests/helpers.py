"""Shared helpers for tests that drive the real CLI and the real embedded stack."""
import json
import os
import re
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
CLI = os.path.join(BIN, "locust-chaos")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(args, home, timeout=240, env_extra=None):
    env = dict(os.environ, LOCUST_CHAOS_HOME=str(home), **(env_extra or {}))
    env.pop("SHOP_BUGS", None) if not (env_extra and "SHOP_BUGS" in env_extra) else None
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    return proc.returncode, proc.stdout + proc.stderr


def load_verdict(report_dir) -> dict:
    with open(os.path.join(report_dir, "verdict.json")) as f:
        return json.load(f)


def invariant(verdict: dict, name: str) -> dict:
    return next(i for i in verdict["invariants"] if i["name"] == name)


def stack_dir_of(output: str) -> str:
    match = re.search(r"stack: starting redis-server and PostgreSQL in (\S+)", output)
    assert match, f"no stack dir in output:\n{output[-2000:]}"
    return match.group(1)


def stack_leftovers(output: str) -> list[int]:
    """Processes still alive from the embedded stack a CLI run printed (its dir, its redis address)."""
    redis_addr = re.search(r"\(redis (127\.0\.0\.1:\d+)", output)
    assert redis_addr, f"no redis address in output:\n{output[-2000:]}"
    return processes_mentioning(stack_dir_of(output)) + processes_mentioning(f"redis-server {redis_addr.group(1)}")


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions text (a check only; nothing here signals them)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if text in cmd:
            found.append(int(entry))
    return found


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
