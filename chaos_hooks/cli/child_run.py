"""One `locust-chaos run` as a child process, for the commands that run many (matrix, replay, shrink): each run
is isolated (its own process, stack, run id and report directory) and heals itself as a single run does.

The child gets its own session, so a Ctrl-C at the terminal reaches only us; we pass one SIGINT on, the run
heals and writes its partial verdict, and the caller stops starting new runs (Interrupts.stopped). Should we
be SIGKILLed, the kernel sends the run that SIGINT itself (parent-death signal): it heals and ends as
interrupted rather than running on unattended."""
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from chaos_hooks.common.procs import signal_when_parent_dies


@dataclass
class RunSpec:
    """What to run: `locust-chaos run SCENARIO` with these options."""
    scenario: str
    seed: int | None = None
    bugs: str | None = None
    target: str | None = None
    locustfile: str | None = None
    run_time: float | None = None
    users: int | None = None        # -u / -r / -H as the run was given them; None: the scenario's own
    spawn_rate: float | None = None
    host: str | None = None
    workers: int = 0
    plugins: list[str] = field(default_factory=list)

    def argv(self, report_dir: str | None = None) -> list[str]:
        out = ["run", self.scenario]
        for flag, value in (("--seed", self.seed), ("--bugs", self.bugs), ("--target", self.target),
                            ("--locustfile", self.locustfile)):
            if value is not None:
                out += [flag, str(value)]
        if self.run_time is not None:
            out += ["--run-time", f"{self.run_time:g}s"]
        if self.users is not None:
            out += ["--users", str(self.users)]
        if self.spawn_rate is not None:
            out += ["--spawn-rate", f"{self.spawn_rate:g}"]
        if self.host is not None:
            out += ["--host", self.host]
        if self.workers:
            out += ["--workers", str(self.workers)]
        for p in self.plugins:
            out += ["--chaos-plugin", p]
        if report_dir is not None:
            out += ["--report-dir", report_dir]
        return out

    def command(self, report_dir: str | None = None) -> str:
        """The shell command a person types to run it again."""
        import shlex
        return "locust-chaos " + " ".join(shlex.quote(a) for a in self.argv(report_dir))


@dataclass
class Outcome:
    code: int
    verdict: dict | None
    report_dir: str
    seconds: float


class Interrupts:
    """SIGINT/SIGTERM while a campaign runs: remember it and pass it on, once, to the run going on."""

    def __init__(self):
        self.stopped = False
        self.child: subprocess.Popen | None = None
        self._forwarded = False
        self._old = {}

    def __enter__(self):
        self._old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)

    def _on_signal(self, signum, _frame):
        self.stopped = True
        child = self.child
        if child is not None and child.poll() is None and not self._forwarded:
            self._forwarded = True
            child.send_signal(signal.SIGINT)  # the run heals every fault, writes its partial verdict, exits 3

    def run(self, spec: RunSpec, report_dir: str, log_name: str = "cli.log") -> Outcome:
        """Runs spec to its end (through an interruption too); the child's output goes to report_dir/log_name."""
        os.makedirs(report_dir, exist_ok=True)
        started = time.monotonic()
        with open(os.path.join(report_dir, log_name), "w") as log:
            self._forwarded = False
            self.child = subprocess.Popen([sys.executable, "-m", "chaos_hooks.cli", *spec.argv(report_dir)],
                                          stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True,
                                          preexec_fn=signal_when_parent_dies(signal.SIGINT))
            try:
                code = _wait(self.child)
            finally:
                if self.child.poll() is None:  # we are leaving on an exception: the run still heals
                    self.child.send_signal(signal.SIGINT)
                    _wait(self.child)
                self.child = None
        return Outcome(code, read_verdict(report_dir), report_dir, time.monotonic() - started)


def _wait(child: subprocess.Popen) -> int:
    while True:
        try:
            return child.wait()
        except InterruptedError:
            continue


def read_verdict(report_dir: str) -> dict | None:
    try:
        with open(os.path.join(report_dir, "verdict.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def log_tail(report_dir: str, log_name: str = "cli.log", lines: int = 1) -> str:
    """The child's last error line, to say why a run gave no verdict."""
    try:
        with open(os.path.join(report_dir, log_name)) as f:
            text = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return ""
    errors = [ln for ln in text if "error" in ln.lower()]
    return " / ".join((errors or text)[-lines:])
