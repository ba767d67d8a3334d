"""`locust-chaos stack up | down | status`: a reference system's embedded stack for interactive use."""
import os
import shutil

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.targets.ledger import Ledger
from chaos_hooks.spec.profile import default_profile_path, load_profile
from chaos_hooks.stack import running_stacks as registry
from chaos_hooks.spec.reference_systems import default_system, load_system


EXIT_CODES = ("Exit codes: 0 done; 2 bad --system or --bugs, or a stack is already up; 3 a server or "
              "component did not start, or the harness failed (one line saying why).")


def add_to(sub) -> None:
    p = sub.add_parser("stack", help="start, stop or inspect a reference system's embedded stack",
                       description="`up` starts a reference system with its own datastores and fault proxy on free "
                                   "loopback ports and writes its target profile; `down` stops every process it "
                                   "ever started; `status` shows what runs.", epilog=EXIT_CODES)
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--system", help="reference system (default: the default one, see system.yaml files)")
    p.add_argument("--bugs", default="", help="bug switches for the system (comma list)")
    p.set_defaults(func=run)


def run(args) -> int:
    from chaos_hooks.cli.console import say
    for line in registry.reclaim_orphans():
        say(f"stack: {line}")
    path = default_profile_path()
    if args.action == "up":
        return _up(args, path, say)
    if args.action == "down":
        return _down(path)
    return _status(path)


def _up(args, path: str, say) -> int:
    from chaos_hooks.stack.embedded import EmbeddedStack
    system = load_system(args.system or default_system())
    bugs = system.check_bugs(args.bugs)
    if os.path.exists(path):
        running = Ledger(load_profile(path).ledger or "").running()
        if running:
            raise ScenarioError(f"a stack is already up ({path}); `locust-chaos stack down` first")
    stack = EmbeddedStack(system, bugs, die_with_parent=False, progress=say)
    profile_path = stack.up()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(profile_path, path)
    profile = load_profile(path)
    print(f"system:       {system.name}{' (bugs: ' + ', '.join(bugs) + ')' if bugs else ''}\n"
          f"host:         {profile.host}\n"
          + "".join(f"{name + ':':<14}{url}\n" for name, url in profile.datastores.items())
          + f"fault proxy:  {profile.toxiproxy_url or 'none'} ({_links(profile)})\n"
          f"target file:  {path}\nlogs:         {stack.dir}\n\n"
          f"Load it with:\n  locust -f {os.path.relpath(system.locustfile)} --scenario NAME\n"
          f"Stop it with:\n  locust-chaos stack down")
    return 0


def _links(profile) -> str:
    return ", ".join(f"{name} {link['listen']} -> {link['upstream']}" for name, link in profile.links.items())


def _down(path: str) -> int:
    from chaos_hooks.stack.embedded import stop_saved_stack
    if not os.path.exists(path):
        print(f"no stack is up ({path} not found)")
        return 0
    stopped = stop_saved_stack(path)
    os.remove(path)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _status(path: str) -> int:
    if not os.path.exists(path):
        print(f"no stack is up ({path} not found)")
        return 0
    profile = load_profile(path)
    for name, comp in profile.components.items():
        pid = comp.running_pid()
        print(f"{name:<10} {'running pid ' + str(pid) if pid else 'not running'}")
    print(f"host: {profile.host}")
    return 0
