"""Which processes a process fault may act on. Never pid 1, a kernel thread, this harness's own process tree
(this process and its parents) or a Locust / locust-chaos program (the master and its workers); a process of
another user only when the component names that user (`user:`). Every refusal is one located line."""
import os
import pwd

from chaos_hooks.common import procs
from chaos_hooks.common.errors import ScenarioError, TargetUnreachable

# Programs of the harness itself: refused by name, which only ever errs on the side of not acting.
_HARNESS_PROGRAMS = {"locust", "locust-chaos"}


def is_harness_program(argv: list[str]) -> bool:
    """Locust or locust-chaos running a load or a run; the fault proxy (`locust-chaos proxy`, or
    `python -m chaos_hooks.proxy` as the embedded stack starts it), a stack's component like any other, is not."""
    if "proxy" in argv[1:4] or "chaos_hooks.proxy" in argv[1:3]:
        return False
    names = [os.path.basename(a) for a in argv[:3]]
    if names and names[0] in _HARNESS_PROGRAMS:
        return True
    # python .../bin/locust ..., python -m locust ..., python -m chaos_hooks.cli ...
    return bool(names) and names[0].startswith("python") and (
        (len(names) > 1 and names[1] in _HARNESS_PROGRAMS) or
        (len(argv) > 2 and argv[1] == "-m" and argv[2].split(".")[0] in ("locust", "chaos_hooks")))


def _me() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def check(where: str, pid: int, how: str, user: str | None) -> dict:
    """The process facts of pid when a fault may act on it; else TargetUnreachable (exit 3) for what it is,
    or ScenarioError (exit 2) when only the profile can allow it (`user:`). `where` locates the component."""
    found = procs.facts(pid)
    what = f"pid {pid} {how}"
    if not found:
        raise TargetUnreachable(f"{where}: {what} is not running")
    if pid == 1:
        raise TargetUnreachable(f"{where}: {what} is pid 1 (init); refused")
    if found["kernel_thread"]:
        raise TargetUnreachable(f"{where}: {what} is a kernel thread; refused")
    if pid in procs.ancestors():
        raise TargetUnreachable(f"{where}: {what} is this harness or one of its parents "
                                f"({' '.join(found['cmdline'])[:80]}); refused")
    if is_harness_program(found["cmdline"]):
        raise TargetUnreachable(f"{where}: {what} is a Locust / locust-chaos process "
                                f"({' '.join(found['cmdline'])[:80]}); refused")
    if found["uid"] != os.geteuid() and found["user"] != user:
        raise ScenarioError(f"{where}.user: {what} runs as {found['user']}, not as {_me()}; add "
                            f"`user: {found['user']}` to the component to allow faults on it")
    return found
