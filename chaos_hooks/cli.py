"""`locust-chaos`: run presets end to end, inspect and validate scenarios, heal, manage the embedded stack."""
import argparse
import os
import shutil
import signal
import subprocess
import sys

from . import procs
from .durations import parse_duration
from .errors import ChaosError, ScenarioError
from .journal import Journal
from .report.files import default_report_dir
from .scenario import load_scenario, preset_names, resolve
from .targets import default_target_path, load_target, state_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCUSTFILES = os.path.join(ROOT, "locustfiles")


EXIT_CODES = ("Exit codes: 0 every invariant holds, 1 one fails, 2 bad scenario or arguments, "
              "3 the harness could not run (target unreachable, preflight failed, run interrupted).")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- run ------------------------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from .stack import EmbeddedStack
    scenario = load_scenario(args.scenario)
    run_time = parse_duration(args.run_time) if args.run_time else scenario.load.run_time
    if run_time <= 0:
        raise ScenarioError("--run-time: must be more than 0")
    scenario.check_timeline(run_time)
    if args.workers < 0:
        raise ScenarioError("--workers: must be 0 or more")
    report_dir = args.report_dir or default_report_dir(scenario.name)
    os.makedirs(report_dir, exist_ok=True)
    procs.become_subreaper()  # orphans of our children come to us, so teardown can reap them
    stack = EmbeddedStack(bugs=args.bugs if args.bugs is not None else os.environ.get("SHOP_BUGS", ""),
                          die_with_parent=True, progress=_say)
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
        target = stack.up()
        base = [sys.executable, "-m", "locust", "-f", args.locustfile]
        master = base + ["--headless", "--only-summary", "--chaos-scenario-file", resolve(args.scenario),
                         "--chaos-target", target.source, "--chaos-report-dir", report_dir,
                         "-u", str(scenario.load.users), "-r", str(scenario.load.spawn_rate),
                         "-t", f"{run_time:g}s", "--stop-timeout", "0", "--host", target.host]
        if args.seed is not None:
            master += ["--chaos-seed", str(args.seed)]
        if args.workers:
            port = procs.free_port()
            master += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                       "--expect-workers", str(args.workers), "--expect-workers-max-wait", "60"]
        env = dict(os.environ, LOCUST_CHAOS_HOME=state_dir())
        _say(f"run: {scenario.name} for {run_time:g}s with {args.workers or 'no'} Locust worker(s); "
             f"report in {report_dir}")
        children.append(procs.spawn(master, log_path=None, env=env, die_with_parent=True))
        for i in range(args.workers):
            children.append(procs.spawn(base + ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                                        log_path=os.path.join(report_dir, f"locust-worker-{i}.log"), env=env,
                                        die_with_parent=True))
        code = _wait_master(children[0])
        if interrupted:
            code = 3 if code in (0, 1) else code
        return code
    finally:
        for child in children[1:]:
            procs.stop_pid(child.pid, grace=10)
        if children:
            procs.stop_pid(children[0].pid, grace=30)
        _say("stack: stopping")
        stack.down()
        for s, h in old_handlers.items():
            signal.signal(s, h)


def _wait_master(master: subprocess.Popen) -> int:
    while True:
        try:
            return master.wait()
        except InterruptedError:
            continue


# --- scenarios ------------------------------------------------------------------------------------------
def cmd_list(args) -> int:
    for name in preset_names():
        try:
            desc = " ".join(load_scenario(name).description.split())
        except ChaosError as err:
            desc = f"(invalid: {err})"
        print(f"{name:<16} {desc[:100]}")
    return 0


def cmd_show(args) -> int:
    with open(resolve(args.scenario)) as f:
        print(f.read(), end="")
    return 0


def cmd_validate(args) -> int:
    scenario = load_scenario(args.scenario)
    run_time = parse_duration(args.run_time) if args.run_time else scenario.load.run_time
    scenario.check_timeline(run_time)
    if args.target:
        from .faults import build_faults
        build_faults(scenario.faults, load_target(args.target))
    print(f"{scenario.source}: ok ({len(scenario.faults)} fault(s), invariants: {', '.join(scenario.invariants)})")
    return 0


def cmd_heal(args) -> int:
    journal = Journal(os.path.join(state_dir(), "journal.jsonl"))
    done = journal.heal_pending(progress=_say)
    print("\n".join(done) if done else f"nothing to heal ({journal.path})")
    return 0


# --- embedded stack -------------------------------------------------------------------------------------
def cmd_stack(args) -> int:
    from .stack import EmbeddedStack, stop_saved_stack
    path = default_target_path()
    if args.action == "up":
        if os.path.exists(path):
            target = load_target(path)
            if any(c.running_pid() for c in target.components.values()):
                raise ScenarioError(f"a stack is already up ({path}, host {target.host}); "
                                    "`locust-chaos stack down` first")
        stack = EmbeddedStack(bugs=args.bugs or os.environ.get("SHOP_BUGS", ""), die_with_parent=False, progress=_say)
        target = stack.up()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(target.source, path)
        links = ", ".join(f"{n} {link['listen']} -> {link['upstream']}" for n, link in target.links.items())
        print(f"host:         {target.host}\nredis:        {target.redis_url}\npostgres:     {target.database_url}\n"
              f"fault proxy:  {target.toxiproxy_url} ({links})\n"
              f"target file:  {path}\nlogs:         {stack.dir}\n\n"
              f"Load it with:\n  locust -f {os.path.relpath(LOCUSTFILES)} --scenario worker-crash\n"
              f"Stop it with:\n  locust-chaos stack down")
        return 0
    if args.action == "down":
        if not os.path.exists(path):
            print(f"no stack is up ({path} not found)")
            return 0
        stopped = stop_saved_stack(path)
        os.remove(path)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    target = load_target(path)
    for name, comp in target.components.items():
        pid = comp.running_pid()
        print(f"{name:<10} {'running pid ' + str(pid) if pid else 'not running'}")
    print(f"host: {target.host}")
    return 0


def cmd_proxy(args) -> int:
    from .proxy.server import serve_forever
    serve_forever(args.host, args.port, args.pidfile, args.config)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="locust-chaos", description=__doc__, epilog=EXIT_CODES)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a preset against the embedded stack and print the verdict",
                         description="Start the embedded stack, a headless Locust master and N workers, fire the "
                                     "scenario's faults, verify the invariants and exit with the verdict's code.",
                         epilog=EXIT_CODES)
    run.add_argument("scenario", metavar="NAME", help="preset name (see `locust-chaos list`) or scenario file")
    run.add_argument("--workers", type=int, default=0, help="local Locust worker processes (default 0: local runner)")
    run.add_argument("--run-time", help="override the scenario's load duration (e.g. 30s, 2m)")
    run.add_argument("--report-dir", help="report directory (default reports/chaos/<scenario>-<UTC time>)")
    run.add_argument("--seed", type=int, help="seed for the users' random choices")
    run.add_argument("--bugs", help="SHOP_BUGS for the embedded shop (comma list; proves the checkers)")
    run.add_argument("--locustfile", default=LOCUSTFILES, help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)

    sub.add_parser("list", help="list the scenario presets").set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="print a preset's scenario file")
    show.add_argument("scenario", metavar="NAME")
    show.set_defaults(func=cmd_show)
    val = sub.add_parser("validate", help="check a scenario file or preset; exit 2 with file:line if bad")
    val.add_argument("scenario", metavar="NAME_OR_FILE")
    val.add_argument("--run-time", help="check the fault timeline against this duration")
    val.add_argument("--target", help="also check fault targets against this target profile")
    val.set_defaults(func=cmd_validate)
    sub.add_parser("heal", help="heal every fault a crashed run left applied (from the journal)"
                   ).set_defaults(func=cmd_heal)

    stack = sub.add_parser("stack", help="embedded stack for interactive use: up, down, status")
    stack.add_argument("action", choices=["up", "down", "status"])
    stack.add_argument("--bugs", help="SHOP_BUGS for the shop")
    stack.set_defaults(func=cmd_stack)

    proxy = sub.add_parser("proxy", help="run the embedded Toxiproxy-compatible server")
    proxy.add_argument("--host", default="127.0.0.1")
    proxy.add_argument("--port", type=int, default=8474)
    proxy.add_argument("--pidfile", help="write the server's pid here (how the embedded stack addresses it)")
    proxy.add_argument("--config", help="JSON list of proxies to create at start (the shape of POST /populate)")
    proxy.set_defaults(func=cmd_proxy)
    return p


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except ChaosError as err:
        print(f"locust-chaos: error: {err}", file=sys.stderr)
        code = err.exit_code
    except ValueError as err:  # a malformed duration on the command line
        print(f"locust-chaos: error: {err}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
