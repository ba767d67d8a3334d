"""`python -m chaos_hooks.locust_plugin.locustfile_classes LOCUSTFILE OUT`: imports a locustfile as Locust does
and writes its runnable user classes to OUT as JSON — {"classes": {name: {line, weight, fixed_count}}} — or
{"error": "file:line: why"} naming the locustfile's line an import error came through.

A child process of its own (`validate --locustfile`): the locustfile's code runs, and Locust monkey-patches,
there and not in the command that asked."""
import inspect
import json
import os
import sys
import traceback


def _where(path: str, err: BaseException) -> str:
    """file:line of the deepest frame in the locustfile itself (the line a user can fix)."""
    target = os.path.realpath(path)
    line = None
    if isinstance(err, SyntaxError) and err.filename and os.path.realpath(err.filename) == target:
        line = err.lineno
    for frame in traceback.extract_tb(err.__traceback__):
        if os.path.realpath(frame.filename) == target:
            line = frame.lineno
    return f"{path}:{line}" if line else path


def _line(cls) -> int | None:
    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None


def describe(path: str) -> dict:
    from locust.util.load_locustfile import load_locustfile  # imports locust: gevent patches this process
    try:
        classes, _shapes = load_locustfile(os.path.abspath(path))
    except (Exception, SystemExit) as err:  # the user's code: anything may come out of it
        reason = f"{type(err).__name__}: {err}".strip().splitlines()[0] if str(err) else type(err).__name__
        return {"error": f"{_where(path, err)}: the locustfile does not import: {reason}"}
    return {"classes": {name: {"line": _line(cls), "weight": getattr(cls, "weight", 1),
                               "fixed_count": getattr(cls, "fixed_count", 0)}
                        for name, cls in classes.items()}}


def main() -> None:
    path, out = sys.argv[1], sys.argv[2]
    found = describe(path)
    with open(out, "w") as f:
        json.dump(found, f, default=repr)  # a weight that is not a number travels as its repr


if __name__ == "__main__":
    main()
