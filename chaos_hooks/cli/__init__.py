"""`locust-chaos`: run presets end to end, inspect and validate scenarios, heal, manage the embedded stack.

Exit codes of `run`: 0 every invariant holds, 1 an invariant is invalid, 2 bad scenario, profile or arguments,
3 the harness could not run or decide (target unreachable, a read failed, a load generator lost,
interrupted, internal error). Every other command states its own in its --help.
"""
import argparse
import os
import sys

from chaos_hooks.common import internal_error as guard
from chaos_hooks.cli.console import say
from chaos_hooks.common.errors import ChaosError
from chaos_hooks.spec.profile import state_dir



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
    try:
        code = args.func(args)
    except ChaosError as err:
        say(f"locust-chaos: error: {err}")
        code = err.exit_code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # `locust-chaos list | head`: the reader left, nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except Exception as err:  # never a traceback, never exit 1
        code = guard.report(err, state_dir(), None)
    sys.exit(code)
