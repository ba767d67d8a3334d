"""Which scenario this Locust process runs, checked against the target and the locustfile's user classes, and
the scenario's load settings applied where -u, -r or -t did not say otherwise."""
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec.fit import check_fit
from chaos_hooks.spec.scenario import load_scenario, preset_names
from chaos_hooks.spec.user_classes import unknown_class


def scenario_ref(options) -> str:
    ref = options.chaos_scenario_file or options.scenario
    if not ref:
        raise ScenarioError(f"no scenario: pass --scenario NAME (presets: {', '.join(preset_names())}) or "
                            f"--chaos-scenario-file FILE")
    return ref


def load_checked(environment, profile):
    """The scenario, checked against the target and the locustfile's user classes."""
    options = environment.parsed_options
    scenario = load_scenario(scenario_ref(options))
    check_fit(scenario, profile)
    if getattr(options, "run_time", None):
        scenario.check_timeline(options.run_time)
    select_user_classes(environment, scenario)
    return scenario


def select_user_classes(environment, scenario) -> None:
    wanted = scenario.load.user_classes
    available = environment.available_user_classes or {u.__name__: u for u in environment.user_classes}
    if not wanted:
        return
    unknown_class(scenario, available)
    environment.user_classes[:] = [available[n] for n in wanted]


def apply_load_defaults(options, load) -> None:
    """The scenario's users, spawn rate and (headless) duration, unless -u, -r or -t say otherwise."""
    if getattr(options, "num_users", None) is None:
        options.num_users = load.users
    if getattr(options, "spawn_rate", None) is None:
        options.spawn_rate = load.spawn_rate
    if getattr(options, "headless", False) and not getattr(options, "run_time", None):
        options.run_time = max(1, round(load.run_time))
