"""The locustfile of bench/heal_time.py's Ctrl-C rounds: users that only wait (what is measured is the master's
heal on its way out, not load), and a trivial invariant, so the run reads no datastore."""
from locust import User, constant, task

from chaos_hooks.invariants import VALID, Result, register


@register("bench_heal")
def bench_heal(hist, reads, params):
    return Result("bench_heal", VALID, "nothing to decide")


class IdleUser(User):
    wait_time = constant(0.5)

    @task
    def idle(self):
        pass
