"""`locust-chaos` takes Locust's flags where they make sense and refuses the others in one line (exit 2); each
subcommand's --help states its own exit codes; `list` fits the terminal's width on word boundaries."""
import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

from chaos_hooks.cli import run_cmd
from helpers import ROOT, run_cli


def locust_option_strings() -> set[str]:
    code = ("import json\nfrom locust.argument_parser import get_parser\n"
            "print(json.dumps([s for a in get_parser()._actions for s in a.option_strings]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(done.stdout))


def test_every_locust_option_is_taken_or_refused_by_name():
    taken = {"-h", "--help", "-f", "--locustfile", "-H", "--host", "-u", "--users", "-r", "--spawn-rate", "-t",
             "--run-time", "--headless"}
    refused = {flag for flags in run_cmd.UNSUPPORTED.values() for flag in flags}
    assert locust_option_strings() - taken - refused == set()


@pytest.mark.parametrize("flag, where", [("--web-port", "web UI"), ("-P", "web UI"), ("--master", "--workers N"),
                                         ("--processes", "--workers N"), ("--csv", "plain `locust"),
                                         ("--tags", "plain `locust")])
def test_a_locust_option_run_does_not_take_is_one_line(flag, where, home):
    code, out = run_cli(["run", "worker-crash", flag, "x"], home)
    assert code == 2 and out.count("\n") == 1, out
    assert out.startswith(f"locust-chaos run: error: {flag}: a Locust option `run` does not take") and where in out


def test_locust_style_flags_reach_the_checks(home, tmp_path):
    # -t after the name, read as Locust reads it: the preset's fault at 5s does not fit 2s.
    code, out = run_cli(["run", "worker-crash", "-t", "2s"], home)
    assert code == 2 and "worker-crash.yaml:" in out and "the load ends at 2s" in out, out
    code, out = run_cli(["run", "worker-crash", "-t", "1m30x"], home)
    assert code == 2 and "--run-time: '1m30x' is not a duration" in out, out
    # -f FILE before the name.
    code, out = run_cli(["run", "-f", str(tmp_path / "nope.py"), "worker-crash"], home)
    assert code == 2 and f"--locustfile: {tmp_path / 'nope.py'} not found" in out, out
    code, out = run_cli(["run", "worker-crash", "-u", "0"], home)
    assert code == 2 and out.count("\n") == 1 and "-u/--users" in out, out
    code, out = run_cli(["run", "worker-crash", "--host", "http://127.0.0.1:1"], home)
    assert code == 2 and "--host:" in out and "--target" in out, out


def test_each_command_states_its_own_exit_codes(capsys):
    from chaos_hooks.cli import main
    for command in ("run", "show", "list", "validate", "heal", "stack", "init", "proxy"):
        with pytest.raises(SystemExit) as done:  # argparse's --help, in this process
            main([command, "--help"])
        code, out = done.value.code, capsys.readouterr().out
        assert code == 0 and "Exit codes:" in out, command
        codes = " ".join(out.split("Exit codes:", 1)[1].split())
        assert ("every invariant holds" in codes) == (command == "run"), (command, codes)


def test_list_fits_the_terminal_on_word_boundaries():
    described = {}
    for path in glob.glob(os.path.join(ROOT, "chaos_hooks", "scenarios", "*.yaml")):
        with open(path) as f:
            doc = yaml.safe_load(f)
        described[doc["name"]] = " ".join(str(doc.get("description", "")).split())
    for columns in (60, 100):
        code, out = run_cli(["list"], env_extra={"COLUMNS": str(columns)})
        lines = out.splitlines()
        assert code == 0 and len(lines) == len(described)
        shortened = 0
        for line in lines:
            assert len(line) <= columns, line
            name, shown = line.split()[0], " ".join(line.split()[2:])
            full = described[name]
            if shown.endswith(" ..."):
                shortened += 1
                kept = shown[:-4]
                assert full.startswith(kept) and full[len(kept)] == " ", (kept, full)  # whole words only
            else:
                assert shown == full
        assert shortened, "no description needed shortening: the check proves nothing"
