"""The guarantee at the top of every entry point: an unexpected exception is never a traceback on the
terminal and never exit 1 (which means only "an invariant is invalid"). It becomes one line pointing at
error.log, everything applied is healed, and the exit code is 3."""
import os
import sys
import time
import traceback

from chaos_hooks.common.errors import ChaosError
from chaos_hooks.common.home import state_dir

INTERNAL_ERROR_EXIT = 3


def record(err: BaseException, where_dir: str) -> str:
    """Writes the traceback to <where_dir>/error.log; returns the line to print."""
    path = os.path.join(where_dir, "error.log")
    try:
        os.makedirs(where_dir, exist_ok=True)
        with open(path, "a") as f:
            f.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} pid {os.getpid()}\n")
            f.write("".join(traceback.format_exception(type(err), err, err.__traceback__)))
    except OSError:
        path = "(error.log could not be written)"
    text = str(err).strip().splitlines()
    return f"locust-chaos: internal error: {type(err).__name__}: {text[0] if text else ''}, details in {path}"


def report(err: BaseException, where_dir: str, heal=None) -> int:
    """Heals (each step guarded), prints the one line, returns the exit code."""
    if heal is not None:
        try:
            heal()
        except Exception as heal_err:  # report the original error; the heal failure goes to the log too
            record(heal_err, where_dir)
    print(record(err, where_dir), file=sys.stderr, flush=True)
    return INTERNAL_ERROR_EXIT


def run_guarded(action, prog: str) -> int:
    """An entry point's action, ended the way every command ends: a ChaosError is one line (`prog: error: ...`)
    and its exit code, Ctrl-C 130, a reader that left (`... | head`) 0, anything else report()'s one line and 3."""
    try:
        return action()
    except ChaosError as err:
        print(f"{prog}: error: {err}", file=sys.stderr, flush=True)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # nothing more can be said to a closed stdout; silence the flush at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # never a traceback, never exit 1
        return report(err, state_dir())
