"""The plugin's Locust event listeners: importing this module registers them (the `locust_chaos_help.pth`
hook does so for every `locust` program; a locustfile may import it too, which changes nothing).

The plugin takes part only in a chaos run: a chaos option on the command line, or a locustfile that uses
chaos_hooks. Master or local runner: validates scenario and target at init and runs the controller from
test_start to test_stop. Workers: record history and ship it (transport.py). Every listener is guarded
(exit_policy.py): never a traceback, always healed.
"""
import atexit
import logging
import os
import signal
import sys

import gevent
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from chaos_hooks.common import internal_error, secrets
from chaos_hooks.common.errors import ChaosError
from chaos_hooks.control.controller import RunController
from chaos_hooks.control.journal import Journal
from chaos_hooks.control import run_lock
from chaos_hooks.control.preflight import preflight
from chaos_hooks.faults import build_faults
from chaos_hooks.history import recorder, worker_tag
from chaos_hooks.locust_plugin import chaos_tab_state, options as chaos_options, transport, web_ui
from chaos_hooks.locust_plugin.exit_policy import guarded
from chaos_hooks.locust_plugin.expected_workers import await_expected_workers
from chaos_hooks.locust_plugin.scenario_choice import apply_load_defaults, load_checked, scenario_ref
from chaos_hooks.locust_plugin.state import state
from chaos_hooks.report import render_table
from chaos_hooks.report.files import default_report_dir, unused_report_dir
from chaos_hooks.spec import published_addresses
from chaos_hooks.common.home import state_dir
from chaos_hooks.spec.profile import default_profile_path, load_profile
from chaos_hooks.spec.scenario import load_plugins, load_scenario, preset_names

log = logging.getLogger("locust_chaos")


@events.init_command_line_parser.add_listener
def _add_arguments(parser):
    chaos_options.add_to(parser, preset_names())


def _is_controller(runner) -> bool:
    return runner is not None and not isinstance(runner, WorkerRunner)


def _uses_chaos(environment) -> bool:
    """A chaos option was given, or a module of the locustfile's user classes uses chaos_hooks."""
    options = environment.parsed_options
    if options is not None and (getattr(options, "scenario", "") or getattr(options, "chaos_scenario_file", "")):
        return True
    classes = list(environment.user_classes) + list((environment.available_user_classes or {}).values())
    for cls in classes:
        module = sys.modules.get(cls.__module__)
        if module is not None and any(getattr(v, "__name__", "").startswith("chaos_hooks")
                                      for v in vars(module).values()):
            return True
    return False


@events.init.add_listener
def _on_init(environment, runner, **_):
    try:
        if not _uses_chaos(environment):
            return
        state.active = True
        _init(environment, runner)
        await_expected_workers(environment, runner)
    except ChaosError as err:
        print(f"locust-chaos: error: {err}", file=sys.stderr, flush=True)
        sys.exit(err.exit_code)
    except Exception as err:
        sys.exit(internal_error.report(err, state_dir(), None))


def _init(environment, runner) -> None:
    if isinstance(runner, WorkerRunner):
        recorder.tag = worker_tag(runner.client_id)
        runner.register_message(transport.MSG_RUN, guarded(transport.worker_on_run), concurrent=True)
        runner.register_message(transport.MSG_HALT, guarded(transport.worker_on_halt), concurrent=True)
        return
    if runner is None:
        return
    if isinstance(runner, MasterRunner):
        runner.register_message(transport.MSG_HISTORY, guarded(transport.master_on_history))
    options = environment.parsed_options
    load_plugins(options.chaos_plugin, "--chaos-plugin")
    # Addresses from compose services' published ports are looked up now, once, through the Docker API.
    state.profile = published_addresses.resolve(load_profile(options.chaos_target or default_profile_path()))
    secrets.install(state.profile)  # nothing this process prints or writes shows a secret of the profile
    run_lock.acquire(state.profile, state_dir())  # one run per target at a time, before anything is touched
    state.journal = Journal(os.path.join(state_dir(), "journal.jsonl"))
    faults = []
    if options.chaos_scenario_file or options.scenario or options.headless:
        scenario = load_checked(environment, state.profile)
        apply_load_defaults(options, scenario.load)
        if getattr(options, "run_time", None):
            scenario.check_timeline(options.run_time)
        faults = build_faults(scenario.faults, state.profile)
    preflight(state.profile, state.journal, faults)
    if not environment.host:
        environment.host = state.profile.host
    if environment.web_ui is not None:
        web_ui.install(environment.web_ui, lambda: _snapshot(environment))
    atexit.register(_heal_on_exit)


def _snapshot(environment) -> dict:
    """The Chaos tab's data: the run going on or last done, else the scenario picked."""
    ctl = state.controller
    if ctl is not None:
        snap = chaos_tab_state.of_run(ctl)
        if ctl.verdict is not None:  # the verdict's own absolute report_dir: the link works for a relative one
            snap["report_path"] = os.path.join(ctl.verdict.get("report_dir") or os.path.abspath(ctl.report_dir),
                                               "report.html")
        return snap
    try:
        return chaos_tab_state.before_run(load_scenario(scenario_ref(environment.parsed_options)))
    except ChaosError as err:
        return {"scenario": None, "error": str(err), "running": False, "faults": [], "probes": [], "guards": [],
                "verdict": None, "series": None, "windows": []}


# --- master / local runner -------------------------------------------------------------------------------
@events.test_start.add_listener
@guarded
def _on_test_start(environment, **_):
    runner = environment.runner
    if not state.active or not _is_controller(runner):
        return
    options = environment.parsed_options
    scenario = load_checked(environment, state.profile)  # the web UI may have picked another preset
    report_dir = unused_report_dir(options.chaos_report_dir or default_report_dir(scenario.name))
    ctl = RunController(scenario, state.profile, state.journal, report_dir, options.chaos_seed)
    state.controller = ctl
    headless = bool(getattr(options, "headless", False))
    ctl.stop_load = lambda: gevent.spawn(runner.quit if headless else runner.stop)
    ctl.verdict_at_exit = headless  # the verdict is the last thing on screen, after Locust's summary
    ctl.start(quiet=bool(getattr(options, "chaos_quiet", False)))
    # Locust's own SIGTERM handler stops the process; this one (libev runs both) only records why.
    gevent.signal_handler(signal.SIGTERM, lambda: ctl.interrupt("SIGTERM"))
    config = ctl.run_config()
    if isinstance(runner, MasterRunner):
        ctl.sources = {c.id for c in runner.clients.all}
        runner.send_message(transport.MSG_RUN, config)  # sent before the spawn messages: users start configured
        state.watcher = gevent.spawn(transport.watch_workers, runner, ctl)
    else:
        ctl.sources = {"local"}
        transport.apply_run_config(config, worker_index=0)
        state.shipper = gevent.spawn(transport.ship_loop, lambda batch: ctl.store.add("local", batch))


@events.test_stopping.add_listener
@guarded
def _on_test_stopping(environment, **_):
    ctl = state.controller
    if ctl is None or not _is_controller(environment.runner) or ctl.aborted:
        return
    ctl.load_ended()
    if isinstance(environment.runner, MasterRunner):
        environment.runner.send_message(transport.MSG_HALT, {"run_id": ctl.run_id})


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
        missing = ctl.wait_for_history(transport.clients_state(runner))
    else:
        transport.stop_shipping()
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
        # Quitting with no verdict: Ctrl-C (Locust turns SIGINT into its shutdown), SIGTERM, or an abort.
        ctl.interrupt(reason if ctl.aborted != "the run was interrupted before its verdict" else "SIGINT (Ctrl-C)")
        ctl.heal_all()
        ctl.write_partial(reason)
        if reason.startswith("the run was interrupted"):
            log.warning("locust-chaos: run interrupted before its verdict; every fault healed")
        else:
            log.warning("locust-chaos: the run stopped before its verdict (%s); every fault healed", reason)
        if not environment.process_exit_code:
            environment.process_exit_code = 3


@events.quit.add_listener
def _on_quit(**_):
    """Locust has printed its summary; the verdict goes last (headless; the web UI's run printed it at once)."""
    ctl = state.controller
    if ctl is not None and ctl.verdict_at_exit and ctl.verdict is not None and not ctl.verdict.get("partial"):
        print("\n" + render_table(ctl.verdict), flush=True)


def _heal_on_exit() -> None:
    try:
        state.heal_everything()
    except Exception as err:
        internal_error.record(err, state.error_dir())


