"""A headless master starts its run the moment its --expect-workers are ready, not at Locust's next poll.

Locust's headless start counts the ready workers once, before it has received anything from them, then
sleeps a whole second: every distributed run began about a second late. Awaited here, at the end of the init
event (Locust's listener greenlet takes the workers' "ready" messages meanwhile), that first count finds them.
Bounded: workers slower than this are left to Locust's own wait, its messages and --expect-workers-max-wait."""
import time

import gevent
from locust.runners import MasterRunner

BOUND_S = 3.0
POLL_S = 0.02


def await_expected_workers(environment, runner) -> None:
    options = environment.parsed_options
    if not isinstance(runner, MasterRunner) or not getattr(options, "headless", False):
        return
    expected = getattr(options, "expect_workers", 1) or 1
    deadline = time.monotonic() + min(BOUND_S, getattr(options, "expect_workers_max_wait", 0) or BOUND_S)
    while len(runner.clients.ready) < expected and time.monotonic() < deadline:
        gevent.sleep(POLL_S)
