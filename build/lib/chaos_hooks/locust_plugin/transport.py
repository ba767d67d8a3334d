"""The history between load generators and the master. Workers ship completed operations in batches every
SHIP_INTERVAL_S; on `chaos_halt` a worker stops its users and sends the rest with its total (the flush barrier:
the master then knows it holds everything that worker recorded)."""
import random

import gevent
from locust.runners import STATE_MISSING

from chaos_hooks import run
from chaos_hooks.history import recorder
from chaos_hooks.locust_plugin.state import state

SHIP_INTERVAL_S = 0.5
MSG_RUN, MSG_HISTORY, MSG_HALT = "chaos_run", "chaos_history", "chaos_halt"


def apply_run_config(config: dict, worker_index: int) -> None:
    run.configure(config)
    recorder.reset(config["run_id"])
    seed = config.get("seed")
    random.seed(None if seed is None else seed * 1000 + worker_index)


def ship_loop(send) -> None:
    while True:
        gevent.sleep(SHIP_INTERVAL_S)
        batch = recorder.take_completed()
        if batch:
            send(batch)


def stop_shipping() -> None:
    if state.shipper is not None:
        state.shipper.kill(block=True)
        state.shipper = None


def worker_on_run(environment, msg, **_):
    runner = environment.runner
    apply_run_config(msg.data, getattr(runner, "worker_index", 0))
    if state.shipper is not None:
        state.shipper.kill(block=False)
    run_id = msg.data["run_id"]
    state.shipper = gevent.spawn(ship_loop, lambda batch: runner.send_message(
        MSG_HISTORY, {"run_id": run_id, "batch": batch}))


def worker_on_halt(environment, msg, **_):
    """Stop generating load, then send everything left with the total, so the master knows it has it all."""
    runner = environment.runner
    stop_shipping()
    runner.stop()
    runner.send_message(MSG_HISTORY, {"run_id": msg.data["run_id"], "batch": recorder.take_all(),
                                      "final_total": recorder.total_shipped})


def master_on_history(environment, msg, **_):
    ctl = state.controller
    if ctl is None or msg.data.get("run_id") != ctl.run_id:
        return
    ctl.sources.add(msg.node_id)
    ctl.store.add(msg.node_id, msg.data.get("batch"), msg.data.get("final_total"))


def clients_state(runner):
    """node id -> Locust's state of that worker ("missing" once its heartbeat is gone), None when unknown."""
    def state_of(node):
        client = runner.clients.get(node)
        if client is None:
            return None
        return "missing" if client.state == STATE_MISSING else client.state
    return state_of


def watch_workers(runner, ctl) -> None:
    while ctl.verdict is None:
        ctl.watch_workers(clients_state(runner))
        gevent.sleep(0.5)
