"""The Locust plugin: the only module that knows Locust events and messages.

Master or local runner: validates scenario and target at init, runs the controller from test_start to
test_stop. Workers: record history, ship it in batches, and on `chaos_halt` stop their users and send a final
batch with their total (the flush barrier: the headless master stops listening 0.5 s after quit and fires its
own test_stop while workers still run). Every listener is guarded: an unexpected exception heals, prints one
line pointing at error.log and ends with exit code 3, never a traceback.
"""
import atexit
import functools
import logging
import os
import random
import sys

import gevent
from locust import events
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from . import guard, locust_options, run, run_state, webui
from .controller import RunController, preflight
from .errors import ChaosError, ScenarioError
from .faults import build_faults
from .fit import check_fit
from .history import recorder, worker_tag
from .journal import Journal
from .profile import default_profile_path, load_profile, state_dir
from .report.files import default_report_dir
from .scenario import load_plugins, load_scenario, preset_names

log = logging.getLogger("locust_chaos")
SHIP_INTERVAL_S = 0.5
MSG_RUN, MSG_HISTORY, MSG_HALT = "chaos_run", "chaos_history", "chaos_halt"


class _State:
    controller: RunController | None = None
    profile = None
    journal: Journal | None = None
    shipper = None
    watcher = None


state = _State()


def _error_dir() -> str:
    ctl = state.controller
    return ctl.report_dir if ctl is not None else state_dir()


def _heal_everything() -> None:
    if state.controller is not None:
        state.controller.heal_all()


def guarded(listener):
    """Unexpected exceptions in a listener: heal, one line, exit 3 (Locust would log a traceback)."""
    @functools.wraps(listener)
    def wrapper(*args, **kwargs):
        try:
            return listener(*args, **kwargs)
        except ChaosError as err:
            _stop_with(kwargs.get("environment"), err.exit_code, f"locust-chaos: error: {err}", str(err))
        except Exception as err:
            code = guard.report(err, _error_dir(), _heal_everything)
            _stop_with(kwargs.get("environment"), code, None, f"internal error: {type(err).__name__}: {err}")
    return wrapper


def _stop_with(environment, code: int, line: str | None, reason: str) -> None:
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


@events.init_command_line_parser.add_listener
def _add_arguments(parser):
    locust_options.add_to(parser, preset_names())


def _is_controller(runner) -> bool:
    return runner is not None and not isinstance(runner, WorkerRunner)


def _scenario_ref(options) -> str:
    ref = options.chaos_scenario_file or options.scenario
    if not ref:
        raise ScenarioError(f"no scenario: pass --scenario NAME (presets: {', '.join(preset_names())}) or "
                            f"--chaos-scenario-file FILE")
    return ref


def _load_checked(environment):
    """The scenario, checked against the target and the locustfile's user classes."""
    options = environment.parsed_options
    scenario = load_scenario(_scenario_ref(options))
    check_fit(scenario, state.profile)
    if getattr(options, "run_time", None):
        scenario.check_timeline(options.run_time)
    _select_user_classes(environment, scenario)
    return scenario


def _select_user_classes(environment, scenario) -> None:
    wanted = scenario.load.user_classes
    available = environment.available_user_classes or {u.__name__: u for u in environment.user_classes}
    if not wanted:
        return
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise ScenarioError(f"{scenario.where('load', 'user_classes')}: load.user_classes: {unknown[0]!r} is not a "
                            f"user class of the locustfile (it has: {', '.join(sorted(available)) or 'none'})")
    environment.user_classes[:] = [available[n] for n in wanted]


@events.init.add_listener
def _on_init(environment, runner, **_):
    try:
        _init(environment, runner)
    except ChaosError as err:
        print(f"locust-chaos: error: {err}", file=sys.stderr, flush=True)
        sys.exit(err.exit_code)
    except Exception as err:
        sys.exit(guard.report(err, state_dir(), None))


def _init(environment, runner) -> None:
    if isinstance(runner, WorkerRunner):
        recorder.tag = worker_tag(runner.client_id)
        runner.register_message(MSG_RUN, guarded(_worker_on_run), concurrent=True)
        runner.register_message(MSG_HALT, guarded(_worker_on_halt), concurrent=True)
        return
    if runner is None:
        return
    if isinstance(runner, MasterRunner):
        runner.register_message(MSG_HISTORY, guarded(_master_on_history))
    options = environment.parsed_options
    load_plugins(options.chaos_plugin, "--chaos-plugin")
    state.profile = load_profile(options.chaos_target or default_profile_path())
    state.journal = Journal(os.path.join(state_dir(), "journal.jsonl"))
    faults = []
    if options.chaos_scenario_file or options.scenario or options.headless:
        scenario = _load_checked(environment)
        _apply_load_defaults(options, scenario.load)
        if getattr(options, "run_time", None):
            scenario.check_timeline(options.run_time)
        faults = build_faults(scenario.faults, state.profile)
    preflight(state.profile, state.journal, faults)
    if not environment.host:
        environment.host = state.profile.host
    if environment.web_ui is not None:
        webui.install(environment.web_ui, lambda: _snapshot(environment))
    atexit.register(_heal_on_exit)


def _snapshot(environment) -> dict:
    """The Chaos tab's data: the run going on or last done, else the scenario picked."""
    ctl = state.controller
    if ctl is not None:
        snap = run_state.of_run(ctl)
        if ctl.verdict is not None:
            snap["report_path"] = os.path.join(ctl.report_dir, "report.html")
        return snap
    try:
        return run_state.before_run(load_scenario(_scenario_ref(environment.parsed_options)))
    except ChaosError as err:
        return {"scenario": None, "error": str(err), "running": False, "faults": [], "probes": [], "guards": [],
                "verdict": None, "series": None, "windows": []}


def _apply_load_defaults(options, load) -> None:
    """The scenario's users, spawn rate and (headless) duration, unless -u, -r or -t say otherwise."""
    if getattr(options, "num_users", None) is None:
        options.num_users = load.users
    if getattr(options, "spawn_rate", None) is None:
        options.spawn_rate = load.spawn_rate
    if getattr(options, "headless", False) and not getattr(options, "run_time", None):
        options.run_time = max(1, round(load.run_time))


# --- master / local runner -------------------------------------------------------------------------------
@events.test_start.add_listener
@guarded
def _on_test_start(environment, **_):
    runner = environment.runner
    if not _is_controller(runner):
        return
    options = environment.parsed_options
    scenario = _load_checked(environment)  # the web UI may have picked another preset
    report_dir = options.chaos_report_dir or default_report_dir(scenario.name)
    ctl = RunController(scenario, state.profile, state.journal, report_dir, options.chaos_seed)
    state.controller = ctl
    headless = bool(getattr(options, "headless", False))
    ctl.stop_load = lambda: gevent.spawn(runner.quit if headless else runner.stop)
    ctl.start(quiet=bool(getattr(options, "chaos_quiet", False)))
    config = ctl.run_config()
    if isinstance(runner, MasterRunner):
        ctl.sources = {c.id for c in runner.clients.all}
        runner.send_message(MSG_RUN, config)  # sent before the spawn messages, so users start configured
        state.watcher = gevent.spawn(_watch_workers, runner, ctl)
    else:
        ctl.sources = {"local"}
        _apply_run_config(config, worker_index=0)
        state.shipper = gevent.spawn(_ship_loop, lambda batch: ctl.store.add("local", batch))


def _clients_state(runner):
    def state_of(node):
        client = runner.clients.get(node)
        if client is None:
            return None
        return "missing" if client.state == STATE_MISSING else client.state
    return state_of


def _watch_workers(runner, ctl) -> None:
    while ctl.verdict is None:
        ctl.watch_workers(_clients_state(runner))
        gevent.sleep(0.5)


@events.test_stopping.add_listener
@guarded
def _on_test_stopping(environment, **_):
    ctl = state.controller
    if ctl is None or not _is_controller(environment.runner) or ctl.aborted:
        return
    ctl.load_ended()
    if isinstance(environment.runner, MasterRunner):
        environment.runner.send_message(MSG_HALT, {"run_id": ctl.run_id})


@events.test_stop.add_listener
@guarded
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
        gevent.spawn(guarded(_verify), environment=environment, ctl=ctl)  # keep the web UI responsive


def _verify(environment, ctl) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        missing = ctl.wait_for_history(_clients_state(runner))
    else:
        if state.shipper is not None:
            state.shipper.kill(block=True)
            state.shipper = None
        ctl.store.add("local", recorder.take_all(), recorder.total_shipped)
        missing = []
    try:
        ctl.finish(missing)
    except BaseException:
        if ctl.verdict is None:
            ctl.write_partial("verification was interrupted")
        raise
    environment.process_exit_code = ctl.exit_code()


@events.quitting.add_listener
@guarded
def _on_quitting(environment, **_):
    ctl = state.controller
    if ctl is not None and ctl.verdict is None and _is_controller(environment.runner):
        reason = ctl.aborted or "the run was interrupted before its verdict"
        ctl.aborted = reason
        ctl.heal_all()
        ctl.write_partial(reason)
        if reason.startswith("the run was interrupted"):
            log.warning("locust-chaos: run interrupted before its verdict; every fault healed")
        else:
            log.warning("locust-chaos: the run stopped before its verdict (%s); every fault healed", reason)
        if not environment.process_exit_code:
            environment.process_exit_code = 3


def _heal_on_exit() -> None:
    try:
        _heal_everything()
    except Exception as err:
        guard.record(err, _error_dir())


def _master_on_history(environment, msg, **_):
    ctl = state.controller
    if ctl is None or msg.data.get("run_id") != ctl.run_id:
        return
    ctl.sources.add(msg.node_id)
    ctl.store.add(msg.node_id, msg.data.get("batch"), msg.data.get("final_total"))


# --- workers ---------------------------------------------------------------------------------------------
def _apply_run_config(config: dict, worker_index: int) -> None:
    run.configure(config)
    recorder.reset(config["run_id"])
    seed = config.get("seed")
    random.seed(None if seed is None else seed * 1000 + worker_index)


def _worker_on_run(environment, msg, **_):
    runner = environment.runner
    _apply_run_config(msg.data, getattr(runner, "worker_index", 0))
    if state.shipper is not None:
        state.shipper.kill(block=False)
    run_id = msg.data["run_id"]
    state.shipper = gevent.spawn(_ship_loop, lambda batch: runner.send_message(
        MSG_HISTORY, {"run_id": run_id, "batch": batch}))


def _ship_loop(send) -> None:
    while True:
        gevent.sleep(SHIP_INTERVAL_S)
        batch = recorder.take_completed()
        if batch:
            send(batch)


def _worker_on_halt(environment, msg, **_):
    """Stop generating load, then send everything left with the total, so the master knows it has it all."""
    runner = environment.runner
    if state.shipper is not None:
        state.shipper.kill(block=True)
        state.shipper = None
    runner.stop()
    runner.send_message(MSG_HISTORY, {"run_id": msg.data["run_id"], "batch": recorder.take_all(),
                                      "final_total": recorder.total_shipped})
