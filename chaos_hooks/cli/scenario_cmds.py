"""`locust-chaos list | show | validate`: the presets, one scenario's timeline, and checking without running."""
import shutil
import textwrap

from chaos_hooks.spec import timeline
from chaos_hooks.common import procs, secrets
from chaos_hooks.common.durations import format_duration, parse_duration
from chaos_hooks.common.errors import ChaosError, ScenarioError, TargetUnreachable
from chaos_hooks.cli.console import say
from chaos_hooks.cli.locustfile_check import check_locustfile
from chaos_hooks.control.read_trial import try_reads, unscoped_warnings
from chaos_hooks.faults import build_faults
from chaos_hooks.spec.fit import check_fit
from chaos_hooks.targets.container import ContainerTarget
from chaos_hooks.spec import published_addresses
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.control.reachability import check_reachable
from chaos_hooks.spec.scenario import load_plugins, load_scenario, preset_names
from chaos_hooks.spec.template_profile import template_profile
from chaos_hooks.spec.reference_systems import load_system


LIST_EXIT_CODES = "Exit codes: 0 always (a preset that does not load is listed as invalid, with why)."
SHOW_EXIT_CODES = "Exit codes: 0 printed; 2 the scenario is invalid (one line naming file, line and field)."
VALIDATE_EXIT_CODES = ("Exit codes: 0 valid (and, with --target, it fits, the target answers and every read it "
                       "tried answered); 2 bad scenario, profile, locustfile, plugin or --run-time, they do not fit, "
                       "or a read answered with an error (one line naming file, line and field each); 3 with "
                       "--target (not --offline): the target, a datastore or a fault's target cannot be reached, "
                       "or a read could not connect.")
NAME_W, SYSTEM_W = 22, 10


def add_to(sub) -> None:
    sub.add_parser("list", help="list the scenario presets", epilog=LIST_EXIT_CODES,
                   description="One line per preset: name, system, what it proves (shortened to the terminal's "
                               "width).").set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="print a scenario's load, values, fault timeline and invariants",
                          epilog=SHOW_EXIT_CODES)
    show.add_argument("scenario", metavar="NAME_OR_FILE")
    show.set_defaults(func=cmd_show)
    val = sub.add_parser("validate", help="check a scenario, a target profile or a locustfile without running anything",
                         description="Checks the scenario. With --target also the profile, that the scenario fits "
                                     "it, that the target is reachable (exit 3 naming the failing check), and tries "
                                     "every read of the profile once, as a run makes it, one line per read: what "
                                     "it answered, or file:line: reads.ROLE.KIND: why it failed. A read that uses "
                                     "a value only setup saves is not tried (setup changes the system). A SQL read "
                                     "an invariant uses that takes no run value is a warning. With --locustfile "
                                     "the locustfile's user classes are checked as `run` checks them (the names in "
                                     "load.user_classes, weights), without starting anything. Without --target a "
                                     "preset is checked against its reference system. The scenario may be left "
                                     "out when --target or --locustfile is given.",
                         epilog=VALIDATE_EXIT_CODES)
    val.add_argument("scenario", metavar="NAME_OR_FILE", nargs="?")
    val.add_argument("--run-time", help="check the fault timeline against this duration (e.g. 30s)")
    val.add_argument("--target", metavar="PROFILE", help="target profile to check (and the scenario against it)")
    val.add_argument("-f", "--locustfile", metavar="FILE",
                     help="check this locustfile's user classes (against the scenario's load.user_classes)")
    val.add_argument("--offline", action="store_true",
                     help="with --target: check the files only, do not contact the target")
    val.add_argument("--chaos-plugin", action="append", default=[], metavar="MODULE",
                     help="module that registers invariants, faults or read kinds (repeatable)")
    val.set_defaults(func=cmd_validate)


def cmd_list(args) -> int:
    # What is left of the terminal's width for the description; never under 20 columns. Piped: COLUMNS or 80.
    room = max(shutil.get_terminal_size().columns - NAME_W - SYSTEM_W - 2, 20)
    for name in preset_names():
        try:
            scenario = load_scenario(name)
            system, desc = scenario.system or "-", " ".join(scenario.description.split())
        except ChaosError as err:
            system, desc = "?", f"(invalid: {err})"
        print(f"{name:<{NAME_W}} {system:<{SYSTEM_W}} {textwrap.shorten(desc, room, placeholder=' ...')}".rstrip())
    return 0


def run_time_arg(value: str | None, default: float) -> float:
    if value is None:
        return default
    if not value.strip():
        raise ScenarioError("--run-time: must not be empty (e.g. 30s)")
    try:
        return parse_duration(value)
    except ValueError as err:
        raise ScenarioError(f"--run-time: {err}") from None


def cmd_show(args) -> int:
    s = load_scenario(args.scenario)
    load = s.load
    print(f"{s.name}  ({s.source})")
    if s.description:
        print("  " + " ".join(s.description.split()))
    print(f"system:     {s.system or '(any: give --target)'}")
    print(f"load:       {load.users} users at {load.spawn_rate:g}/s for {format_duration(load.run_time)}"
          f"{', classes ' + ', '.join(load.user_classes) if load.user_classes else ''}; wait {load.wait[0]:g}-"
          f"{load.wait[1]:g}s" + "".join(f"; {k} {v}" for k, v in load.settings.items()))
    print("values:     " + (", ".join(f"{k}={v}" for k, v in s.values.items()) or "none"))
    seed = s.nemesis.seed if s.nemesis is not None else None
    lines = timeline.describe(s.timeline(seed) if s.nemesis is None or seed is not None else s.faults)
    print("timeline:" + ("" if lines else "   no faults"))
    for line in lines:
        print(f"  {line}")
    if s.nemesis is not None:
        n = s.nemesis
        print(f"  nemesis: between +{format_duration(n.start)} and +{format_duration(n.end)}, one of "
              f"{', '.join(c.name for c in n.choices)} for {n.duration[0]:g}-{n.duration[1]:g}s, quiet "
              f"{n.interval[0]:g}-{n.interval[1]:g}s between; seed "
              + (f"{seed} (schedule above)" if seed is not None else "chosen per run (--seed), printed at the start"))
    for probe in s.probes:
        source = f"{probe.http[0]} {probe.http[1]}" if probe.http else f"read {probe.read}"
        expects = "; ".join(f"{e.phase}{' ' + e.fault if e.fault else ''} {e.test}"
                            + (f" within {format_duration(e.within)}" if e.within else "") for e in probe.expect)
        print(f"probe:      {probe.name}: {source} every {format_duration(probe.every)}: {expects}")
    for guard in s.guards:
        what = (f"probe {guard.probe} not {guard.test} {guard.failures}x" if guard.kind == "probe"
                else f"{guard.kind} > {guard.threshold:g} over {format_duration(guard.window)}")
        print(f"guard:      {guard.name}: {what}")
    print("invariants: " + ", ".join(f"{k}" + (f" {v}" if v else "") for k, v in s.invariants.items()))
    return 0


def describe_components(profile) -> list[str]:
    """Each component as the harness finds it now: pid and how it was found, owner, command line."""
    lines = []
    for name, comp in profile.components.items():
        if isinstance(comp, ContainerTarget):
            lines.append(f"component {comp.describe()}")  # name: locator = container (id), status
            continue
        pid, how = comp.resolve()
        if pid is None:
            lines.append(f"component {name}: not running ({how})")
            continue
        facts = procs.facts(pid)
        lines.append(f"component {name}: pid {pid} {how}, owner {facts.get('user', '?')}, "
                     f"command: {' '.join(facts.get('cmdline') or [])[:200]}")
    return lines


def cmd_validate(args) -> int:
    load_plugins(args.chaos_plugin, "--chaos-plugin")
    if not (args.scenario or args.target or args.locustfile):
        raise ScenarioError("validate: give a scenario (NAME_OR_FILE), --target PROFILE or --locustfile FILE")
    scenario = None
    if args.scenario:
        scenario = load_scenario(args.scenario)
        scenario.check_timeline(run_time_arg(args.run_time, scenario.load.run_time))
    elif args.run_time is not None:
        raise ScenarioError("--run-time: it checks a scenario's fault timeline; give the scenario too")
    profile = load_profile(args.target) if args.target else None
    if profile is not None:
        if scenario is not None:
            check_fit(scenario, profile)
        if not args.offline:
            secrets.install(profile)  # from here on every line printed is masked
            published_addresses.resolve(profile)  # addresses from compose services' published ports, looked up now
    if args.locustfile:
        for line in check_locustfile(args.locustfile, scenario):
            print(line)
    if profile is not None:
        return _validate_target(args, scenario, profile)
    if scenario is None:
        print(f"{args.locustfile}: ok")
        return 0
    summary = f"{scenario.source}: ok ({len(scenario.faults)} fault(s), invariants: {', '.join(scenario.invariants)}"
    if scenario.system is None:
        print(summary + "; give --target PROFILE to check it against your system)")
        return 0
    system = load_system(scenario.system)
    check_fit(scenario, template_profile(system))
    print(summary + f"; fits system {system.name})")
    return 0


def _validate_target(args, scenario, profile) -> int:
    what = scenario.source if scenario is not None else profile.source
    against = f" against {profile.source}" if scenario is not None else ""
    if args.offline:
        for line in unscoped_warnings(profile, scenario):
            say(line)
        print(f"{what}: ok{against} (not contacted)")
        return 0
    checked = check_reachable(profile)
    for line in describe_components(profile):
        print(line)
    faults = scenario.faults if scenario is not None else []
    for fault in build_faults(faults, profile):
        fault.preflight()  # what it acts on is there now (a component running, ...)
    if faults:
        checked.append(f"{len(faults)} fault target(s)")
    saves = set().union(*(step.saves() for step in profile.setup)) if profile.setup else set()
    trials = try_reads(profile, scenario, saves, say)
    for line in unscoped_warnings(profile, scenario):
        say(line)
    failed = [t for t in trials if t.failed]
    if failed:
        unreachable = sum(t.unreachable for t in failed)
        message = (f"{profile.source}: {len(failed)} of {len(trials)} read(s) failed (each on its own line above)"
                   + (f"; {unreachable} could not connect" if unreachable else ""))
        raise (TargetUnreachable if unreachable else ScenarioError)(message)
    if trials:
        checked.append(f"{sum(t.tried for t in trials)} of {len(trials)} read(s) answered")
    print(f"{what}: ok{against} (reachable: {', '.join(checked)})")
    return 0
