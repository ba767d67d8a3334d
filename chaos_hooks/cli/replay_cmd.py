"""`locust-chaos replay REPORT_DIR`: run again exactly what a run ran — the scenario as it was (its copy in the
report directory), its run time, users, spawn rate and host, the nemesis seed and the users' seed, its bug switches or target — and say
whether the verdict is the same (same status, same invalid invariants).

Exit code: 0 the verdict is the same, 1 it differs, 2 bad input, 3 the replay could not run or was
interrupted."""
import json
import os
import time

from chaos_hooks.cli.child_run import Interrupts, RunSpec, log_tail
from chaos_hooks.cli.console import say
from chaos_hooks.cli.run_record import load_record
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.common.safe_yaml import load_file
from chaos_hooks.report.matrix import verdict_status

EXIT_SAME, EXIT_DIFFERENT, EXIT_UNDECIDED = 0, 1, 3


EXIT_CODES = ("Exit codes: 0 the replay's verdict is the same as the original's; 1 it differs; 2 bad arguments or "
              "report directory; 3 no verdict to compare (the replay was interrupted or undecided).")


def add_to(sub) -> None:
    p = sub.add_parser("replay", help="rerun a run from its report directory and compare the verdicts",
                       description=__doc__, epilog=EXIT_CODES)
    p.add_argument("report", metavar="REPORT_DIR", help="report directory of a `locust-chaos run`")
    p.add_argument("--report-dir", help="where the replay reports (default REPORT_DIR-replay-<UTC time>)")
    p.add_argument("--target", metavar="PROFILE", help="run against this running system instead of the recorded one")
    p.add_argument("--bugs", default=None, help="bug switches instead of the recorded ones (embedded stack)")
    p.set_defaults(func=run)


def run_spec(report: str, record: dict, scenario_file: str, target=None, bugs=None) -> RunSpec:
    """The recorded run as a RunSpec; --target or --bugs given now replace the recorded ones."""
    if target and bugs:
        raise ScenarioError("--bugs: bug switches apply to a reference system's embedded stack, not to --target")
    host = None
    if target is None and bugs is None:
        target, bugs = record.get("target"), record.get("bugs")
        host = record.get("host")  # -H went with the recorded target; a target given now brings its own host
    return RunSpec(scenario_file, seed=record["seed"], bugs=bugs, target=target, locustfile=record.get("locustfile"),
                   run_time=record.get("run_time"), users=record.get("users"),
                   spawn_rate=record.get("spawn_rate"), host=host, workers=record.get("workers") or 0,
                   plugins=list(record.get("chaos_plugin") or []))


def pinned_scenario(report: str, record: dict, out_dir: str) -> str:
    """The recorded scenario; with a nemesis, a copy whose nemesis seed is the one the run drew from."""
    original = os.path.join(report, record.get("scenario_file") or "scenario.yaml")
    seed = record.get("nemesis_seed")
    if seed is None:
        return original
    doc = load_file(original)
    nemesis = doc.data.get("nemesis") if isinstance(doc.data, dict) else None
    if not isinstance(nemesis, dict) or nemesis.get("seed") == seed:
        return original
    import yaml
    data = dict(doc.data, nemesis=dict(nemesis, seed=seed))
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "scenario-pinned.yaml")
    with open(path, "w") as f:
        f.write(f"# {original} with the nemesis seed its run drew from\n")
        yaml.safe_dump(data, f, sort_keys=False)
    return path


def signature(verdict: dict | None) -> tuple:
    """What `the same verdict` means: the status and the invalid invariants."""
    if verdict is None:
        return ("none", ())
    return (verdict_status(verdict), tuple(sorted(i["name"] for i in verdict.get("invariants", [])
                                                  if i["status"] == "invalid")))


def schedule(verdict_or_faults) -> list[tuple[str, float | None]]:
    faults = verdict_or_faults.get("faults", []) if isinstance(verdict_or_faults, dict) else verdict_or_faults
    return [(f["name"], f.get("injected_at")) for f in faults or []]


def _describe(sig: tuple) -> str:
    status, invalid = sig
    return status + (f" (invalid: {', '.join(invalid)})" if invalid else "")


def run(args) -> int:
    report = args.report.rstrip("/")
    record = load_record(report)
    original = _read_json(os.path.join(report, "verdict.json"))
    out = args.report_dir or f"{report}-replay-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    scenario_file = pinned_scenario(report, record, out)
    spec = run_spec(report, record, scenario_file, args.target, args.bugs)
    say(f"replay: {record.get('name', '?')} from {report}: seed {record['seed']}"
        + (f", nemesis seed {record['nemesis_seed']}" if record.get("nemesis_seed") is not None else "")
        + f"; report in {out}")
    say(f"replay: {spec.command(out)}")
    with Interrupts() as interrupts:
        outcome = interrupts.run(spec, out)
    print(f"replay schedule: {_schedule_text(outcome.verdict)}")
    if original is not None:
        print(f"original schedule: {_schedule_text(original)}")
    if outcome.verdict is None:
        print(f"replay: no verdict ({log_tail(out) or f'exit {outcome.code}'})")
        return EXIT_UNDECIDED
    new, old = signature(outcome.verdict), signature(original)
    if interrupts.stopped or new[0] == "interrupted":
        print(f"replay: interrupted; verdict {_describe(new)}; report {out}")
        return EXIT_UNDECIDED
    if original is None:
        print(f"replay: verdict {_describe(new)}; the original has no verdict.json to compare; report {out}")
        return EXIT_DIFFERENT
    same = new == old
    print(f"replay: verdict {_describe(new)}; original {_describe(old)}: "
          + ("SAME" if same else "DIFFERENT") + f"; report {out}")
    return EXIT_SAME if same else EXIT_DIFFERENT


def _schedule_text(verdict) -> str:
    if verdict is None:
        return "-"
    items = schedule(verdict)
    return ", ".join(f"{n} +{t:.3f}s" if t is not None else f"{n} (not injected)" for n, t in items) or "no faults"


def _read_json(path: str):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
