"""`replay` runs again what the run was given: -u, -r and -H go back on the command line as recorded."""
from chaos_hooks.cli.replay_cmd import run_spec

RECORD = {"seed": 11, "target": "/srv/profile.yaml", "bugs": None, "locustfile": "/srv/locustfile.py",
          "run_time": 12.0, "users": 7, "spawn_rate": 3.5, "host": "http://127.0.0.1:18080", "workers": 2,
          "chaos_plugin": ["my_faults"]}


def test_the_recorded_load_and_host_are_passed_back():
    argv = run_spec("/r", RECORD, "/r/scenario.yaml").argv("/out")
    assert argv[:2] == ["run", "/r/scenario.yaml"]
    pairs = dict(zip(argv[2::2], argv[3::2]))
    assert pairs["--users"] == "7" and pairs["--spawn-rate"] == "3.5" and pairs["--host"] == "http://127.0.0.1:18080"
    assert pairs["--seed"] == "11" and pairs["--target"] == "/srv/profile.yaml" and pairs["--run-time"] == "12s"
    assert pairs["--workers"] == "2" and pairs["--chaos-plugin"] == "my_faults" and pairs["--report-dir"] == "/out"


def test_a_run_given_no_load_flags_replays_with_the_scenarios_own():
    record = dict(RECORD, users=None, spawn_rate=None, host=None)
    argv = run_spec("/r", record, "/r/scenario.yaml").argv()
    assert "--users" not in argv and "--spawn-rate" not in argv and "--host" not in argv


def test_a_new_target_brings_its_own_host():
    argv = run_spec("/r", RECORD, "/r/scenario.yaml", target="/other.yaml").argv()
    assert "--host" not in argv and argv[argv.index("--target") + 1] == "/other.yaml"
    assert argv[argv.index("--users") + 1] == "7"
