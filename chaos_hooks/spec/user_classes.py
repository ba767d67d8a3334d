"""Do a locustfile's user classes fit a scenario? The names in `load.user_classes` exist, the classes that would
run have usable weights, and at least one of them would start a user. Mistakes are ScenarioError, located in
the scenario or the locustfile; what only limits the run (more fixed_count than users) comes back as a warning."""
from chaos_hooks.common.errors import ScenarioError


def unknown_class(scenario, available) -> None:
    """load.user_classes names only user classes the locustfile has (what `run` checks once Locust started)."""
    unknown = [n for n in scenario.load.user_classes if n not in available]
    if unknown:
        raise ScenarioError(f"{scenario.where('load', 'user_classes')}: load.user_classes: {unknown[0]!r} is not a "
                            f"user class of the locustfile (it has: {', '.join(sorted(available)) or 'none'})")


def check_user_classes(locustfile: str, classes: dict, scenario=None) -> list[str]:
    """classes: name -> {line, weight, fixed_count}, as the locustfile defines them. Returns warnings."""
    if not classes:
        raise ScenarioError(f"{locustfile}: no user class (a non-abstract subclass of locust.User) is defined "
                            f"in it; Locust would stop with 'No User class found!'")
    chosen = list(classes)
    if scenario is not None and scenario.load.user_classes:
        unknown_class(scenario, classes)
        chosen = scenario.load.user_classes
    for name in chosen:
        info = classes[name]
        where = f"{locustfile}:{info['line']}" if info.get("line") else locustfile
        for attr in ("weight", "fixed_count"):
            value = info.get(attr)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ScenarioError(f"{where}: {name}.{attr}: expected a whole number of 0 or more, got {value!r}")
    if not any(classes[n]["weight"] or classes[n]["fixed_count"] for n in chosen):
        first = classes[chosen[0]]
        where = f"{locustfile}:{first['line']}" if first.get("line") else locustfile
        raise ScenarioError(f"{where}: {', '.join(chosen)}: every weight and fixed_count is 0, so no user would start")
    fixed = sum(classes[n]["fixed_count"] for n in chosen)
    if scenario is not None and fixed > scenario.load.users:
        return [f"{locustfile}: warning: the user classes' fixed_count adds up to {fixed}, more than the scenario's "
                f"{scenario.load.users} users: not all of them will start"]
    return []
