"""Does a scenario fit a target profile? Every fault names something the profile has, every invariant's reads
exist, and every run value a read or setup step uses is one the run will have. Mistakes are exit 2, located."""
from .errors import ScenarioError
from .faults import build_faults
from .invariants import INVARIANTS
from .scenario import RUN_VALUES


def run_value_names(scenario, profile) -> set[str]:
    names = set(RUN_VALUES) | set(scenario.values)
    for step in profile.setup:
        names |= step.saves()
    return names


def check_fit(scenario, profile) -> None:
    build_faults(scenario.faults, profile)
    for name in scenario.invariants:
        for role in INVARIANTS[name].needs:
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
