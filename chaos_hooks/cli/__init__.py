"""`locust-chaos`: run presets end to end, inspect and validate scenarios, heal, manage the embedded stack.

Exit codes of `run`: 0 every invariant holds, 1 an invariant is invalid, 2 bad scenario, profile or arguments,
3 the harness could not run or decide (target unreachable, a read failed, a load generator lost,
interrupted, internal error). Every other command states its own in its --help.
"""
import argparse
import sys

from chaos_hooks.common.internal_error import run_guarded


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line naming the command and what is wrong (exit 2), not argparse's usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    from chaos_hooks.cli import heal_cmd, init_cmd, proxy_cmd, run_cmd, scenario_cmds, stack_cmd
    from chaos_hooks.cli import matrix_cmd, replay_cmd, shrink_cmd
    from chaos_hooks.locust_plugin.options import describe
    from chaos_hooks.spec.scenario import preset_names
    p = OneLineParser(prog="locust-chaos", description=__doc__.split("\n\n")[0],
                      epilog="Exit codes of `run` (every other command states its own in its --help): "
                             + run_cmd.EXIT_CODES.split(": ", 1)[1] + "\n\n" + describe(preset_names()),
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (run_cmd, scenario_cmds, heal_cmd, stack_cmd, init_cmd, proxy_cmd, matrix_cmd, replay_cmd,
                   shrink_cmd):
        module.add_to(sub)
    return p


def main(argv=None) -> None:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, or argparse's own usage error (exit 2)
        sys.exit(done.code)
    sys.exit(run_guarded(lambda: args.func(args), "locust-chaos"))
