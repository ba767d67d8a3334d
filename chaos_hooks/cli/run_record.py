"""What a run ran, kept beside its report so `replay` and `shrink` can run it again: a copy of the scenario
file (scenario.yaml) and run.json (seeds, bug switches, target, locustfile, run time, users, spawn rate, host, workers).

The users' seed is pinned here when none was given: a random one, recorded, so every run can be replayed."""
import json
import os
import random
import sys

from chaos_hooks.common import secrets
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.spec.scenario import resolve

RUN_FILE = "run.json"
SCENARIO_COPY = "scenario.yaml"  # the profile's secrets masked (***): a replay of such a scenario says so


def pin_and_record(args, scenario, system, report_dir: str, locustfile: str, run_time: float) -> None:
    """Sets args.seed when unset, copies the scenario file and writes run.json into report_dir."""
    if args.seed is None:
        args.seed = random.randrange(2 ** 31)
    nemesis_seed = None
    if scenario.nemesis is not None:  # as the controller picks it: the scenario's own, else the users' seed
        nemesis_seed = scenario.nemesis.seed if scenario.nemesis.seed is not None else args.seed
    os.makedirs(report_dir, exist_ok=True)
    with open(resolve(args.scenario)) as f:
        text = f.read()
    if args.target:  # a secret of the profile never lands in a report file, the scenario's copy included
        secrets.add(secrets.from_profile(load_profile(args.target)))
    copy = os.path.join(report_dir, SCENARIO_COPY)
    with open(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(secrets.mask_text(text))
    record = {
        "scenario": args.scenario, "scenario_file": SCENARIO_COPY, "name": scenario.name,
        "seed": args.seed, "nemesis_seed": nemesis_seed,
        "bugs": args.bugs or None, "system": system.name if system is not None else None,
        "target": os.path.abspath(args.target) if args.target else None,
        "locustfile": os.path.abspath(locustfile), "run_time": run_time,
        "workers": args.workers, "chaos_plugin": list(args.chaos_plugin),
        "users": getattr(args, "users", None), "spawn_rate": getattr(args, "spawn_rate", None),
        "host": getattr(args, "host", None), "argv": sys.argv[1:],
    }
    tmp = os.path.join(report_dir, RUN_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(report_dir, RUN_FILE))


def load_record(report_dir: str) -> dict:
    """run.json of a report directory; ScenarioError (exit 2) when it is missing or broken."""
    from chaos_hooks.common.errors import ScenarioError
    path = os.path.join(report_dir, RUN_FILE)
    try:
        with open(path) as f:
            record = json.load(f)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: not found (a report directory of `locust-chaos run` has run.json)") from None
    except (OSError, ValueError) as err:
        raise ScenarioError(f"{path}: unreadable: {err}") from None
    if not isinstance(record, dict) or "seed" not in record:
        raise ScenarioError(f"{path}: not a run record (no seed)")
    if not os.path.isfile(os.path.join(report_dir, record.get("scenario_file") or SCENARIO_COPY)):
        raise ScenarioError(f"{report_dir}: {SCENARIO_COPY} not found (the scenario as it ran)")
    return record
