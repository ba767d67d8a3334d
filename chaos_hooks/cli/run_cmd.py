"""`locust-chaos run NAME`: one scenario end to end — against a running system (--target) or a reference
system's embedded stack — with a headless Locust master and N local workers; exits with the verdict's code.

Locust's own -f/--locustfile, -u/--users, -r/--spawn-rate, -t/--run-time, -H/--host and --headless work as they
do for `locust` (durations as Locust reads them: 90, 90s, 1m30s, 1h30m); Locust's other options are refused in
one line that says where they apply.

Everything a user can get wrong is checked first, in about a second (exit 2): the scenario, the profile, that
they fit, the run time, the bug switches, the report directory, the locustfile and its user classes."""
import argparse
import os
import signal
import subprocess
import sys
import time

from chaos_hooks.common import ports, procs
from chaos_hooks.targets.ledger import Ledger
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec.fit import check_fit
from chaos_hooks.spec import published_addresses
from chaos_hooks.common.home import state_dir
from chaos_hooks.spec.profile import load_profile
from chaos_hooks.report.files import check_writable, default_report_dir
from chaos_hooks.spec.scenario import load_plugins, load_scenario, resolve
from chaos_hooks.spec.template_profile import template_profile
from chaos_hooks.spec.reference_systems import default_system, load_system
from chaos_hooks.cli.scenario_cmds import run_time_arg
from chaos_hooks.verify.verdict import exit_code

MAX_WORKERS = 64
EXIT_CODES = ("Exit codes: 0 every invariant holds; 1 an invariant is invalid; 2 bad scenario, profile or "
              "arguments (one line naming file, line and field); 3 the harness could not run or decide "
              "(target unreachable, a read failed, a load generator lost, nothing acknowledged, interrupted).")

_WEB = "`run` is always headless; for Locust's web UI run `locust -f LOCUSTFILE --scenario NAME`"
_DIST = ("`run` starts its own master; use --workers N for local workers, or `locust --master` / `locust --worker` "
         "with --scenario for your own set-up")
_OTHER = "not supported by `locust-chaos run`; plain `locust -f LOCUSTFILE --scenario NAME` takes it"
# Locust's options that `run` does not take (tests/unit/test_cli_locust_flags.py checks this against Locust's
# own parser, so a new Locust option cannot slip through as argparse's bare "unrecognized arguments").
UNSUPPORTED = {
    _WEB: ["--web-host", "--web-host-display-name", "--web-port", "-P", "--autostart", "--autoquit", "--headful",
           "--web-auth", "--web-login", "--tls-cert", "--tls-key", "--class-picker", "--build-path", "--legacy-ui",
           "--web-base-path"],
    _DIST: ["--master", "--master-bind-host", "--master-bind-port", "--expect-workers", "--expect-workers-max-wait",
            "--enable-rebalancing", "--expect-slaves", "--worker", "--processes", "--slave", "--master-host",
            "--master-port"],
    "`run` sets the stop timeout itself (0: faults and verification follow the load at once)": ["-s",
                                                                                                  "--stop-timeout"],
    _OTHER: ["--config", "-l", "--list", "--config-users", "-T", "--tags", "-E", "--exclude-tags", "--csv",
             "--csv-full-history", "--print-stats", "--only-summary", "--reset-stats", "--html", "--json",
             "--json-file", "--skip-log-setup", "--loglevel", "-L", "--logfile", "--show-task-ratio",
             "--show-task-ratio-json", "--version", "-V", "--exit-code-on-error", "--equal-weights", "--profile",
             "--otel"],
}


class _Unsupported(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string}: a Locust option `run` does not take: {self.const}")


def add_to(sub) -> None:
    p = sub.add_parser("run", help="run a scenario end to end and exit with its verdict",
                       description=__doc__, epilog=EXIT_CODES)
    p.add_argument("scenario", metavar="NAME_OR_FILE", help="preset name (see `locust-chaos list`) or scenario file")
    p.add_argument("--target", metavar="PROFILE",
                   help="target profile of a running system (default: start the scenario's reference system)")
    p.add_argument("-f", "--locustfile", metavar="FILE",
                   help="your locustfile (default: the reference system's)")
    p.add_argument("-u", "--users", type=_positive(int), metavar="N",
                   help="peak number of users (default: the scenario's load.users)")
    p.add_argument("-r", "--spawn-rate", type=_positive(float), metavar="RATE",
                   help="users started per second (default: the scenario's load.spawn_rate)")
    p.add_argument("-t", "--run-time", metavar="TIME",
                   help="how long the load runs, as Locust reads it: 90, 90s, 1m30s, 1h30m (default: the "
                        "scenario's load.run_time)")
    p.add_argument("-H", "--host", metavar="URL",
                   help="with --target: the host the users load instead of the profile's host")
    p.add_argument("--headless", action="store_true", help="accepted for Locust's sake: `run` is always headless")
    p.add_argument("--workers", type=int, default=0, help="local Locust worker processes (default 0: one process)")
    p.add_argument("--report-dir", help="report directory (default reports/chaos/<scenario>-<UTC time>)")
    p.add_argument("--seed", type=int, help="seed for the users' random choices")
    p.add_argument("--bugs", default=None,
                   help="bug switches of the reference system, comma list (proves the checkers catch them)")
    p.add_argument("--chaos-plugin", action="append", default=[], metavar="MODULE",
                   help="module that registers invariants, faults or read kinds (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no live progress line (for CI logs)")
    for why, flags in UNSUPPORTED.items():
        for flag in flags:
            p.add_argument(flag, nargs="*", action=_Unsupported, const=why, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n' if kind is int else ''} {kind.__name__}") from None
        if not 0 < value < 1e9:
            raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 and below 1e9")
        return value
    parse.__name__ = kind.__name__
    return parse


def _checked(args):
    """Everything validated before anything starts; returns (scenario, system or None, run_time, locustfile)."""
    load_plugins(args.chaos_plugin, "--chaos-plugin")
    scenario = load_scenario(args.scenario)
    run_time = run_time_arg(args.run_time, scenario.load.run_time)
    scenario.check_timeline(run_time)
    if not 0 <= args.workers <= MAX_WORKERS:
        raise ScenarioError(f"--workers: {args.workers} is out of range (0..{MAX_WORKERS})")
    system = None
    if args.target:
        if args.bugs:
            raise ScenarioError("--bugs: bug switches apply to a reference system's embedded stack, not to --target")
        profile = load_profile(args.target)
        check_fit(scenario, profile)
        named = scenario.system or profile.system  # a preset's (or an embedded profile's) reference system
        locustfile = args.locustfile or (load_system(named).locustfile if named else None)
    else:
        system = load_system(scenario.system or default_system())
        system.check_bugs(args.bugs or "")
        try:
            check_fit(scenario, template_profile(system))
        except ScenarioError as err:
            if scenario.system:
                raise
            raise ScenarioError(f"{err} (the scenario names no system and no --target was given, so it was "
                                f"checked against the default reference system {system.name}; pass --target "
                                f"PROFILE to run it against your own)") from None
        locustfile = args.locustfile or system.locustfile
    if args.host and system is not None:
        raise ScenarioError("--host: the embedded stack's host is only known once it starts; give --target PROFILE "
                            "to load another host")
    if not locustfile:
        raise ScenarioError("--locustfile: needed with --target (the file with your user classes)")
    if not os.path.exists(locustfile):
        raise ScenarioError(f"--locustfile: {locustfile} not found")
    return scenario, system, run_time, locustfile


def run(args) -> int:
    from chaos_hooks.cli.console import say
    scenario, system, run_time, locustfile = _checked(args)
    report_dir = args.report_dir or default_report_dir(scenario.name)
    check_writable(report_dir)
    from chaos_hooks.cli.run_record import pin_and_record  # scenario.yaml + run.json: what replay reruns
    pin_and_record(args, scenario, system, report_dir, locustfile, run_time)
    procs.become_subreaper()  # orphans of our children come to us, so teardown can reap them
    stack = None
    children: list[subprocess.Popen] = []
    interrupted = []

    def on_signal(signum, _frame):
        interrupted.append(signum)
        if not children:
            raise KeyboardInterrupt  # still starting the stack: stop here, `finally` tears it down
        if children[0].poll() is None:
            children[0].send_signal(signal.SIGTERM)  # the master heals every fault on its way out

    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if system is not None:
            from chaos_hooks.stack.embedded import EmbeddedStack
            stack = EmbeddedStack(system, system.check_bugs(args.bugs or ""), die_with_parent=True, progress=say)
            target = stack.up()
        else:
            target = args.target
        children += _start_locust(args, scenario, target, run_time, report_dir, locustfile, say)
        code = _wait(children[0])
        lost = _settle_lost_master(children, code)
        if lost is not None:
            code = exit_code(lost)
        elif code < 0:  # killed, and its run settled by another (a preflight): never a pass, never 128+N
            code = 3
        elif interrupted:
            code = 3 if code in (0, 1) else code
        return code
    finally:
        for child in children[1:]:
            procs.stop_pid(child.pid, grace=10)
        if children:
            procs.stop_pid(children[0].pid, grace=30)
        if stack is not None:
            stack.down()  # quietly: the verdict the master printed stays the last thing on screen
        for s, h in old_handlers.items():
            signal.signal(s, h)


def _start_locust(args, scenario, target: str, run_time: float, report_dir: str, locustfile: str, say):
    profile_host = args.host or published_addresses.resolve(load_profile(target)).host
    base = [sys.executable, "-m", "locust", "-f", locustfile]
    plugins = [a for m in args.chaos_plugin for a in ("--chaos-plugin", m)]
    master = base + ["--headless", "--only-summary", "--chaos-scenario-file", resolve(args.scenario),
                     "--chaos-target", target, "--chaos-report-dir", report_dir, *plugins,
                     "-u", str(args.users or scenario.load.users), "-r", f"{args.spawn_rate or scenario.load.spawn_rate:g}",
                     "-t", f"{max(1, round(run_time))}s", "--stop-timeout", "0", "--host", profile_host]
    if args.seed is not None:
        master += ["--chaos-seed", str(args.seed)]
    if args.quiet:
        master += ["--chaos-quiet"]
    if args.workers:
        port = ports.free_port()
        master += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                   "--expect-workers", str(args.workers), "--expect-workers-max-wait", "60"]
    env = dict(os.environ, LOCUST_CHAOS_HOME=state_dir())
    say(f"run: {scenario.name} for {run_time:g}s with {args.workers or 'no'} Locust worker(s); report in {report_dir}")
    ledger = Ledger(os.path.join(report_dir, "locust-processes.jsonl"))  # which pid is which, for post-mortems
    children = [procs.spawn(master, log_path=None, env=env, die_with_parent=True)]
    ledger.record("locust-master", children[0].pid, master)
    for i in range(args.workers):
        worker = base + ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        children.append(procs.spawn(worker, log_path=os.path.join(report_dir, f"locust-worker-{i}.log"), env=env,
                                    die_with_parent=True))
        ledger.record(f"locust-worker-{i}", children[-1].pid, worker)
    return children


def _settle_lost_master(children: list[subprocess.Popen], code: int) -> dict | None:
    """The master ended without the verdict of the run it started (killed, crashed): its workers are stopped,
    what it left applied is healed from the journal, and the run gets an interrupted verdict saying how the
    master was lost. None when the master finished its run (or never started one)."""
    from chaos_hooks.control.journal import Journal
    from chaos_hooks.control import lost_runs
    from chaos_hooks.report import render_table
    master, at = children[0], time.time()
    journal = Journal(os.path.join(state_dir(), "journal.jsonl"))
    if not any(r.get("owner_pid") == master.pid for r in journal.lost_runs()):
        return None
    for worker in children[1:]:  # orphans would load the system for a minute (Locust's heartbeat timeout)
        procs.stop_pid(worker.pid, grace=10)
    for line in journal.heal_pending():
        print(f"locust-chaos: {line}", file=sys.stderr, flush=True)
    try:
        how = signal.Signals(-code).name if code < 0 else f"exit code {code}"
    except ValueError:
        how = f"signal {-code}"
    written = lost_runs.settle(journal, lambda _: lost_runs.lost_reason(master.pid, how, at), master.pid, at)
    for verdict in written:
        print("\n" + render_table(verdict), flush=True)
    return written[-1] if written else None


def _wait(master: subprocess.Popen) -> int:
    while True:
        try:
            return master.wait()
        except InterruptedError:
            continue
