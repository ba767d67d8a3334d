"""The Locust plugin: the only module that knows Locust events and messages.

Master or local runner: validates the scenario and target at init, drives the run controller from
test_start to test_stop. Workers: record history, ship it in batches, and on `chaos_halt` stop their
users and send a final batch (the flush barrier), because the headless master stops listening 0.5 s
after quit and fires its own test_stop while workers still run.
"""
import atexit
import logging
import os
import random
import sys
import time

import gevent
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from .controller import RunController, preflight
from .errors import ChaosError
from .faults import build_faults
from .history import recorder
from .journal import Journal
from .report.files import default_report_dir
from .scenario import load_scenario, preset_names
from .targets import default_target_path, load_target, state_dir

log = logging.getLogger("locust_chaos")
SHIP_INTERVAL_S = 0.5
MSG_RUN, MSG_HISTORY, MSG_HALT = "chaos_run", "chaos_history", "chaos_halt"
DEFAULT_SCENARIO = "flash-sale"


class _State:
    controller = None
    scenario = None
    target = None
    journal = None
    shipper = None


state = _State()


def fail_fast(err: ChaosError) -> None:
    """One clear line and the error's exit code; never a traceback."""
    print(f"locust-chaos: error: {err}", file=sys.stderr, flush=True)
    sys.exit(err.exit_code)


@events.init_command_line_parser.add_listener
def _add_arguments(parser):
    parser.add_argument("--scenario", choices=preset_names(), default=DEFAULT_SCENARIO,
                       help="chaos scenario preset to run (scenarios/NAME.yaml)")
    parser.add_argument("--chaos-scenario-file", default="", include_in_web_ui=False,
                       help="path to a scenario file (overrides --scenario)")
    parser.add_argument("--chaos-target", default="", include_in_web_ui=False,
                       help="target profile (JSON/YAML); default: the one `locust-chaos stack up` wrote")
    parser.add_argument("--chaos-report-dir", default="", include_in_web_ui=False,
                       help="report directory (default reports/chaos/<scenario>-<UTC time>)")
    parser.add_argument("--chaos-seed", type=int, default=None, include_in_web_ui=False,
                       help="seed for the users' random choices")


def _is_controller(runner) -> bool:
    return not isinstance(runner, WorkerRunner)


def _scenario_ref(options) -> str:
    return options.chaos_scenario_file or options.scenario


@events.init.add_listener
def _on_init(environment, runner, **_):
    if isinstance(runner, WorkerRunner):
        runner.register_message(MSG_RUN, _worker_on_run, concurrent=True)
        runner.register_message(MSG_HALT, _worker_on_halt, concurrent=True)
        return
    if runner is None:
        return
    if isinstance(runner, MasterRunner):
        runner.register_message(MSG_HISTORY, _master_on_history)
    options = environment.parsed_options
    try:
        state.target = load_target(options.chaos_target or default_target_path())
        state.journal = Journal(os.path.join(state_dir(), "journal.jsonl"))
        state.scenario = load_scenario(_scenario_ref(options))
        _apply_load_defaults(options, state.scenario.load)
        if getattr(options, "run_time", None):
            state.scenario.check_timeline(options.run_time)
        build_faults(state.scenario.faults, state.target)  # every fault names something the target has
        preflight(state.target, state.journal)
    except ChaosError as err:
        fail_fast(err)
    if not environment.host:
        environment.host = state.target.host
    atexit.register(_heal_on_exit)


def _apply_load_defaults(options, load) -> None:
    """The scenario's users, spawn rate and (headless) duration, unless -u, -r or -t say otherwise."""
    if getattr(options, "num_users", None) is None:
        options.num_users = load.users
    if getattr(options, "spawn_rate", None) is None:
        options.spawn_rate = load.spawn_rate
    if getattr(options, "headless", False) and not getattr(options, "run_time", None):
        options.run_time = int(load.run_time)


# --- master / local runner -------------------------------------------------------------------------
@events.test_start.add_listener
def _on_test_start(environment, **_):
    runner = environment.runner
    if not _is_controller(runner):
        return
    options = environment.parsed_options
    try:
        scenario = load_scenario(_scenario_ref(options))  # the web UI may have picked another preset
        if getattr(options, "run_time", None):
            scenario.check_timeline(options.run_time)
        report_dir = options.chaos_report_dir or default_report_dir(scenario.name)
        ctl = RunController(scenario, state.target, state.journal, report_dir, options.chaos_seed)
        ctl.start()
    except ChaosError as err:
        log.error("locust-chaos: %s", err)
        environment.process_exit_code = err.exit_code
        gevent.spawn(runner.quit)
        return
    state.controller = ctl
    config = ctl.run_config()
    if isinstance(runner, MasterRunner):
        ctl.sources = {c.id for c in runner.clients.all}
        runner.send_message(MSG_RUN, config)  # sent before the spawn messages, so users start configured
    else:
        _apply_run_config(environment, config, worker_index=0)


@events.test_stopping.add_listener
def _on_test_stopping(environment, **_):
    ctl = state.controller
    if ctl is None or not _is_controller(environment.runner) or ctl.aborted:
        return
    ctl.load_ended_at = time.time()
    if isinstance(environment.runner, MasterRunner):
        environment.runner.send_message(MSG_HALT, {"run_id": ctl.run_id})


@events.test_stop.add_listener
def _on_test_stop(environment, **_):
    ctl = state.controller
    runner = environment.runner
    if ctl is None or not _is_controller(runner) or ctl.verdict is not None:
        return
    if ctl.aborted:
        ctl.heal_all()
        return
    if environment.parsed_options and environment.parsed_options.headless:
        _verify(environment, ctl)  # block: the process exits right after
    else:
        gevent.spawn(_verify, environment, ctl)  # keep the web UI responsive


def _verify(environment, ctl) -> None:
    try:
        if isinstance(environment.runner, MasterRunner):
            missing = ctl.wait_for_history()
            workers = len(ctl.collector.received)
        else:
            ctl.collector.add("local", recorder.take_all(), final_total=None)
            missing, workers = [], 0
        ctl.finish(workers, missing)
        environment.process_exit_code = ctl.exit_code()
    except ChaosError as err:
        ctl.heal_all()
        log.error("locust-chaos: verification could not run: %s", err)
        environment.process_exit_code = err.exit_code
    except Exception:
        ctl.heal_all()
        log.exception("locust-chaos: verification failed")
        environment.process_exit_code = 3


@events.quitting.add_listener
def _on_quitting(environment, **_):
    ctl = state.controller
    if ctl is not None and ctl.verdict is None and _is_controller(environment.runner):
        ctl.aborted = True
        ctl.heal_all()
        log.warning("locust-chaos: run interrupted before its verdict; every fault healed")
        environment.process_exit_code = 3


def _heal_on_exit() -> None:
    if state.controller is not None:
        state.controller.heal_all()


def _master_on_history(environment, msg, **_):
    ctl = state.controller
    if ctl is None or msg.data.get("run_id") != ctl.run_id:
        return
    ctl.sources.add(msg.node_id)
    ctl.collector.add(msg.node_id, msg.data["ops"], msg.data.get("final_total"))


# --- workers -----------------------------------------------------------------------------------------
def _apply_run_config(environment, config: dict, worker_index: int) -> None:
    environment.chaos_run = config
    recorder.reset(config["run_id"])
    seed = config.get("seed")
    random.seed(None if seed is None else seed * 1000 + worker_index)


def _worker_on_run(environment, msg, **_):
    runner = environment.runner
    _apply_run_config(environment, msg.data, getattr(runner, "worker_index", 0))
    if state.shipper is not None:
        state.shipper.kill(block=False)
    state.shipper = gevent.spawn(_ship_loop, runner, msg.data["run_id"])


def _ship_loop(runner, run_id: str) -> None:
    while True:
        gevent.sleep(SHIP_INTERVAL_S)
        batch = recorder.take_completed()
        if batch:
            runner.send_message(MSG_HISTORY, {"run_id": run_id, "ops": batch})


def _worker_on_halt(environment, msg, **_):
    """Stop generating load, then send everything left with the total, so the master knows it has it all."""
    runner = environment.runner
    if state.shipper is not None:
        state.shipper.kill(block=True)
        state.shipper = None
    runner.stop()
    batch = recorder.take_all()
    runner.send_message(MSG_HISTORY, {"run_id": msg.data["run_id"], "ops": batch,
                                      "final_total": recorder.total_shipped})
