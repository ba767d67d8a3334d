"""The current run, as every load generator sees it: its id, its values (the scenario's `values`, run_id,
and what setup saved), the scenario's load and its free-form `load.settings`. Set by the plugin when a run starts.

    from chaos_hooks import run
    product = run.values["product"]
    class Buyer(FastHttpUser):
        wait_time = run.wait_time          # the scenario's load.wait
"""
import random

id: str | None = None  # noqa: A001
values: dict = {}
load: dict = {}
settings: dict = {}  # the scenario's load.settings: knobs the locustfile defines and reads


def configure(config: dict) -> None:
    global id, values, load, settings
    id = config.get("run_id")
    values = dict(config.get("values") or {})
    load = dict(config.get("load") or {})
    settings = dict(load.get("settings") or {})


def setting(name: str, default=0.0):
    """One of the scenario's `load.settings` (the locustfile's own knobs), or default."""
    return settings.get(name, default)


def wait_time(user=None) -> float:
    """Seconds between a user's tasks, drawn from the scenario's load.wait [min, max]."""
    low, high = load.get("wait") or (1.0, 1.0)
    return random.uniform(low, high)
