"""Durations are read as Locust reads -t (its own parse_timespan, loaded without importing the `locust`
package), plus the scenario files' 250ms and 1.5s; errors in a scenario file stay located."""
import json
import subprocess
import sys

import pytest

from chaos_hooks.common.durations import parse_duration
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec.scenario import load_scenario

INPUTS = ["90", "90s", "1m30s", "1h30m", "1h", "2h", "3m", "20", "1h20m", "3h30m10s", "0", "0s", "1m0s", "10m",
          "100h", "1s", "59s", "61s", "1m", "01m", "1h1s", "5h5m5s", "7", "120m", "", "s", "m", "h", "1x", "1 m",
          "1h30", "m30s", "1.5s", "250ms", "1s1m", "1h1h", "-5s", "+5", " 5s", "5s ", "1d", "1w", "1e3", "٣s", "５s",
          "1h30mfoo", "99999999999h"]


def locust_answers() -> dict:
    """What Locust's own parser says to each input, asked in a process of its own."""
    code = ("import json, sys\nfrom locust.util.timespan import parse_timespan\nout = {}\n"
            "for s in json.load(sys.stdin):\n    try:\n        out[s] = parse_timespan(s)\n"
            "    except (ValueError, OverflowError):\n        out[s] = None\nprint(json.dumps(out))")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(INPUTS), capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


def ours(text):
    try:
        return parse_duration(text, allow_zero=True, limit=float("inf"))
    except ValueError:
        return None


def test_whatever_locust_accepts_means_the_same_here():
    answers = locust_answers()
    assert answers["1h30m"] == 5400 and answers["250ms"] is None  # the comparison is not vacuous
    for text, seconds in answers.items():
        if seconds is not None and text.isascii():  # Locust's \d also takes other scripts' digits; we do not
            assert ours(text) == seconds, text
    # Beyond Locust: decimals and ms (scenario files), spaces around; never other scripts' digits or garbage.
    assert [ours(t) for t in ("250ms", "1.5s", " 5s", "1 m")] == [0.25, 1.5, 5, 60]
    for text in ("1x", "1h30mfoo", "٣s", "５s", "1d", "-5s", "", "1e3", "1s1m"):
        assert ours(text) is None, text


def test_the_cli_process_does_not_import_locust():
    code = ("import sys\nfrom chaos_hooks.common.durations import parse_duration\n"
            "assert parse_duration('1h30m') == 5400\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('locust', 'gevent')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_bad_duration_in_a_scenario_names_file_line_and_field(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nsystem: shop\nload:\n  users: 2\n  run_time: 1h30x\nvalues: {product: p, stock: 5}\n"
                    "invariants: {no_data_loss: {}}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(path))
    message = str(err.value)
    assert message.startswith(f"{path}:5:") and "run_time" in message and "'1h30x' is not a duration" in message
    assert "\n" not in message
    path.write_text(path.read_text().replace("1h30x", "1m30s"))
    assert load_scenario(str(path)).load.run_time == 90
