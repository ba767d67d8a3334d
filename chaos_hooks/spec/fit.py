"""Does a scenario fit a target profile? Every fault names something the profile has, every invariant's reads
exist, and every run value a read or setup step uses is one the run will have. Mistakes are exit 2, located."""
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.faults import build_faults
from chaos_hooks.invariants.registry import roles_of
from chaos_hooks.spec.probes import check_probe_faults
from chaos_hooks.spec.scenario import RUN_VALUES


def run_value_names(scenario, profile) -> set[str]:
    names = set(RUN_VALUES) | set(scenario.values)
    for step in profile.setup:
        names |= step.saves()
    return names


def check_fit(scenario, profile) -> None:
    specs = scenario.timeline(0) + (scenario.nemesis.choices if scenario.nemesis is not None else [])
    for spec in specs:
        try:
            build_faults([spec], profile)
        except ScenarioError as err:  # the fault's own message, located in the scenario
            raise ScenarioError(f"{scenario.source}:{spec.line}: {err}") from None
    check_probe_faults(scenario)
    for probe in scenario.probes:
        if probe.read is not None and probe.read not in profile.reads:
            raise ScenarioError(f"{scenario.source}:{probe.line}: probes.{probe.name}.read: {profile.source} has no "
                                f"read {probe.read!r} (its reads: {', '.join(sorted(profile.reads)) or 'none'})")
    for name, params in scenario.invariants.items():
        for role in roles_of(name, params).values():
            if role not in profile.reads:
                have = ", ".join(sorted(profile.reads)) or "none"
                raise ScenarioError(f"{scenario.where('invariants', name)}: invariants.{name}: needs the read "
                                    f"{role!r}, which {profile.source} does not define (its reads: {have})")
    known = set(RUN_VALUES) | set(scenario.values)
    for i, step in enumerate(profile.setup):
        _check_names(step.placeholders(), known, step.source, f"setup.{i}", scenario)
        known |= step.saves()
    for role, read in profile.reads.items():
        _check_names(read.placeholders(), known, read.source, f"reads.{role}", scenario)


def _check_names(used: set, known: set, where: str, field: str, scenario) -> None:
    unknown = sorted(used - known)
    if unknown:
        raise ScenarioError(f"{scenario.where('values')}: values: no run value {unknown[0]!r}, which {field} at "
                            f"{where} uses (run values: {', '.join(sorted(known))}; add it under `values:`)")
