"""How a listener's failure ends a run: a ChaosError prints its one line and takes its exit code; anything
unexpected heals, prints one line pointing at error.log and exits 3. Never a traceback (Locust would log one)."""
import functools
import sys

import gevent
from locust.runners import WorkerRunner

from chaos_hooks.common import internal_error
from chaos_hooks.common.errors import ChaosError
from chaos_hooks.locust_plugin.state import state


def guarded(listener):
    @functools.wraps(listener)
    def wrapper(*args, **kwargs):
        try:
            return listener(*args, **kwargs)
        except ChaosError as err:
            stop_with(kwargs.get("environment"), err.exit_code, f"locust-chaos: error: {err}", str(err))
        except Exception as err:
            code = internal_error.report(err, state.error_dir(), state.heal_everything)
            stop_with(kwargs.get("environment"), code, None, f"internal error: {type(err).__name__}: {err}")
    return wrapper


def stop_with(environment, code: int, line: str | None, reason: str) -> None:
    if line:
        print(line, file=sys.stderr, flush=True)
    runner = getattr(environment, "runner", None)
    if environment is None or runner is None or isinstance(runner, WorkerRunner):
        if environment is None or runner is None:
            sys.exit(code)  # at init: nothing has started yet
        return
    environment.process_exit_code = code
    if state.controller is not None:
        state.controller.aborted = reason
    gevent.spawn(runner.quit)
