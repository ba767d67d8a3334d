"""What the commands print besides their results: progress and errors, on stderr so stdout stays data."""
import sys


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
