"""`locust-chaos matrix [PRESET ...]`: a chaos campaign — every preset that applies to the target, one after the
other, each its own isolated run with its own report directory under --report-dir — and one campaign report:
matrix.json, junit.xml (one testsuite per preset) and matrix.html (seed 001's test matrix: preset, what fails,
expected, result, key figures, link to the run's report).

Without --target every preset whose reference system is available runs on its own embedded stack; with
--target a preset that needs something the profile lacks is listed as skipped, naming what is missing.
Ctrl-C stops the campaign once the current run has healed; the rest are "not run".
Exit code: the worst verdict (1 if any invalid, else 3 if any unknown, interrupted or not run, else 0)."""
import os

from chaos_hooks.cli.child_run import Interrupts, RunSpec, log_tail
from chaos_hooks.cli.console import say
from chaos_hooks.common.errors import ChaosError, ScenarioError
from chaos_hooks.report import matrix as report
from chaos_hooks.report.files import check_writable, default_report_dir
from chaos_hooks.spec.fit import check_fit
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.spec.reference_systems import default_system, find_systems, load_system
from chaos_hooks.spec.scenario import load_plugins, load_scenario, preset_names, resolve
from chaos_hooks.spec.template_profile import template_profile

DEFAULT_OVERHEAD_S = 25.0  # stack start, catch-up, verification, teardown: until a finished run says better


EXIT_CODES = ("Exit codes: 0 every preset run passed (skipped ones are listed); 1 a preset's invariant is invalid; "
              "2 bad arguments, scenario or profile; 3 a run was undecided, interrupted or not run.")


def add_to(sub) -> None:
    p = sub.add_parser("matrix", help="run every applicable preset, one after the other, into one campaign report",
                       description=__doc__, epilog=EXIT_CODES, formatter_class=_raw())
    p.add_argument("presets", nargs="*", metavar="PRESET",
                   help="preset names or scenario files (default: every preset)")
    p.add_argument("--target", metavar="PROFILE", help="target profile of a running system (default: each "
                                                       "preset's reference system on its own embedded stack)")
    p.add_argument("--report-dir", help="campaign directory (default reports/chaos/matrix-<UTC time>); each "
                                        "run reports in a directory of its own inside")
    p.add_argument("--bugs", default=None, help="bug switches of the reference system, comma list; presets "
                                                "whose system lacks one are skipped")
    p.add_argument("--seed", type=int, help="seed for every run's users (default: a random one per run, recorded)")
    p.add_argument("--workers", type=int, default=0, help="local Locust worker processes per run")
    p.add_argument("--chaos-plugin", action="append", default=[], metavar="MODULE",
                   help="module that registers invariants, faults or read kinds (repeatable)")
    p.set_defaults(func=run)


def _raw():
    import argparse
    return argparse.RawDescriptionHelpFormatter


def plan(names: list[str], target: str | None, bugs: str | None):
    """[(name, scenario, why skipped or None)], everything checked before anything runs."""
    if target and bugs:
        raise ScenarioError("--bugs: bug switches apply to a reference system's embedded stack, not to --target")
    profile = load_profile(target) if target else None
    systems = find_systems()
    out = []
    for name in names:
        scenario = load_scenario(name)  # a broken or unknown scenario is exit 2, before any run
        try:
            if profile is not None:
                check_fit(scenario, profile)
            else:
                _check_embedded(scenario, systems, bugs)
            out.append((name, scenario, None))
        except (ScenarioError, ChaosError) as err:
            out.append((name, scenario, _short(str(err), scenario.source)))
    return out


def _check_embedded(scenario, systems: dict, bugs: str | None) -> None:
    """The scenario's reference system exists here, its servers can start, it knows the bug switches."""
    name = scenario.system or default_system()
    if name not in systems:
        raise ScenarioError(f"reference system {name} not available (known: {', '.join(sorted(systems)) or 'none'})")
    system = load_system(name)
    _servers_available(system)
    system.check_bugs(bugs or "")
    check_fit(scenario, template_profile(system))


def _servers_available(system) -> None:
    from chaos_hooks.stack import servers
    for server in system.servers.values():
        if server["kind"] == "postgresql":
            servers.find_pg_bin()
        elif server["kind"] == "redis":
            servers._binary("redis-server", "redis-server")
        elif server["kind"] == "nats":
            servers._binary("nats-server", "nats-server")


def _short(message: str, source: str) -> str:
    """The reason without the scenario file's path in front (the row names the preset)."""
    for prefix in (f"{source}:",):
        if message.startswith(prefix):
            message = message[len(prefix):].split(":", 1)[-1].strip()
    return message


def estimate_left(todo: list, done_s: list[tuple[float, float]]) -> float:
    """Seconds left: each remaining preset's run time plus the overhead finished runs showed (default 25 s)."""
    overhead = (sum(actual - planned for planned, actual in done_s) / len(done_s)) if done_s else DEFAULT_OVERHEAD_S
    return sum(s.load.run_time + max(overhead, 0.0) for s in todo)


def _fmt(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def run(args) -> int:
    load_plugins(args.chaos_plugin, "--chaos-plugin")
    names = args.presets or preset_names()
    if not names:
        raise ScenarioError("no presets to run")
    planned = plan(names, args.target, args.bugs)
    campaign = args.report_dir or default_report_dir("matrix")
    check_writable(campaign)
    used = set()
    rows, verdicts, runs = [], {}, []
    for name, scenario, skipped in planned:
        label = scenario.name if scenario.name not in used else f"{scenario.name}-{len(used)}"
        used.add(label)
        if skipped:
            rows.append(report.row_without_verdict(label, scenario, report.SKIPPED, skipped))
        else:
            rows.append(report.row_without_verdict(label, scenario, report.NOT_RUN, ""))
            runs.append((len(rows) - 1, name, scenario))
    say(f"matrix: {len(runs)} preset(s) to run, {len(rows) - len(runs)} skipped; campaign report in {campaign}")
    done_s: list[tuple[float, float]] = []
    with Interrupts() as interrupts:
        for k, (i, name, scenario) in enumerate(runs):
            if interrupts.stopped:
                break
            left = estimate_left([s for _, _, s in runs[k:]], done_s)
            say(f"matrix: [{k + 1}/{len(runs)}] {rows[i]['name']} (about {_fmt(left)} left)")
            spec = RunSpec(resolve(name), seed=args.seed, bugs=args.bugs, target=args.target, workers=args.workers,
                           plugins=list(args.chaos_plugin))
            run_dir = os.path.join(campaign, rows[i]["name"])
            outcome = interrupts.run(spec, run_dir)
            done_s.append((scenario.load.run_time, outcome.seconds))
            rows[i] = _row(rows[i]["name"], scenario, outcome, interrupts.stopped)
            if outcome.verdict is not None:
                verdicts[rows[i]["name"]] = outcome.verdict
            say(f"matrix: {rows[i]['name']}: {report.RESULT[rows[i]['status']]}"
                + (f" ({rows[i]['detail']})" if rows[i]["detail"] else "") + f" in {_fmt(outcome.seconds)}")
            report.write_campaign(campaign, rows, verdicts)  # on disk as it goes
        if interrupts.stopped:
            for row in rows:
                if row["status"] == report.NOT_RUN:
                    row["detail"] = "the campaign was interrupted"
            say("matrix: interrupted; the run going on was healed, the rest not run")
    report.write_campaign(campaign, rows, verdicts)
    print(report.render_table(rows, campaign), flush=True)
    return report.exit_code(rows)


def _row(label: str, scenario, outcome, interrupted: bool) -> dict:
    if outcome.verdict is not None:
        row = report.row_from_verdict(label, scenario, outcome.verdict, os.path.abspath(outcome.report_dir))
        if interrupted and outcome.code == 3 and row["status"] == report.UNKNOWN:
            row["status"] = report.INTERRUPTED
        return row
    status = report.INTERRUPTED if interrupted else report.UNKNOWN
    why = log_tail(outcome.report_dir) or f"no verdict (exit {outcome.code})"
    return report.row_without_verdict(label, scenario, status, why, os.path.abspath(outcome.report_dir))
