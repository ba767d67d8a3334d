"""`validate --target`: every read of a profile tried once against the running system, the way a run makes it
(rows or one value), with the values a run would have. Each read gives one line as it answers (a read may take
seconds): what it answered, or its failure located at the read's own line in the profile.

A read that uses a value only setup saves is not tried: setup changes the system, and validate never does."""
import uuid
from dataclasses import dataclass

from chaos_hooks.common.templates import render
from chaos_hooks.datastores.connections import Datastores, ReadFailed
from chaos_hooks.invariants import INVARIANTS
from chaos_hooks.invariants.registry import kind_of, roles_of
from chaos_hooks.reads import Read, ReadContext

MODES = ("rows", "value")


@dataclass
class Trial:
    line: str
    failed: bool = False
    unreachable: bool = False  # the read could not connect at all (exit 3, not a mistake in the profile)
    tried: bool = True


def read_uses(profile, scenario=None) -> dict[str, set]:
    """Read role -> how a run makes it ({"rows"}, {"value"}); empty when nothing says (then what the kind gives).
    Without a scenario, the roles the built-in invariants read by default."""
    uses: dict[str, set] = {role: set() for role in profile.reads}
    if scenario is not None:
        for name, params in scenario.invariants.items():
            needs = INVARIANTS[kind_of(name)].needs
            for role, read in roles_of(name, params).items():
                uses.setdefault(read, set()).add(needs[role])
        for probe in scenario.probes:
            if probe.read is not None:
                uses.setdefault(probe.read, set()).add("value")
    else:
        defaults = {"in_flight": "rows"} | {r: m for inv in INVARIANTS.values() for r, m in inv.needs.items()}
        for role in uses:
            if role in defaults:
                uses[role].add(defaults[role])
    return {role: modes for role, modes in uses.items() if role in profile.reads}


def invariant_roles(profile, scenario=None) -> set[str]:
    """The reads invariants use: the scenario's, or without one the built-in invariants' default roles."""
    if scenario is not None:
        return {read for name, params in scenario.invariants.items() for read in roles_of(name, params).values()}
    return {role for inv in INVARIANTS.values() for role in inv.needs} | {"in_flight"}


def unscoped_warnings(profile, scenario=None) -> list[str]:
    """One line per read an invariant uses that would see other runs' data too (not an error)."""
    lines = []
    for role in sorted(invariant_roles(profile, scenario) & set(profile.reads)):
        read = profile.reads[role]
        why = read.unscoped()
        if why:
            lines.append(f"{read.located}: warning: {why}")
    return lines


def run_values(scenario=None) -> dict:
    """The values a run would start with (a fresh run_id, the scenario's values made from it)."""
    run_id = uuid.uuid4().hex[:8]
    values = {"run_id": run_id}
    if scenario is not None:
        values.update({k: render(v, {"run_id": run_id}) for k, v in scenario.values.items()})
    return values


def _gives(read: Read) -> list[str]:
    cls = type(read)
    return [m for m in MODES if getattr(cls, m) is not getattr(Read, m)]


def _answer(read: Read, mode: str, ctx) -> str:
    """What the read answered, shortened. Its value is not judged: before setup and load it may well be empty."""
    if mode == "rows":
        return f"{read.rows(ctx).n} rows"
    value = read.value(ctx)
    text = repr(value.decode(errors="replace") if isinstance(value, bytes) else value)
    return f"value {text if len(text) <= 60 else text[:57] + '...'}"


def try_read(read: Read, modes: set, ctx, setup_saves: set) -> Trial:
    missing = sorted(read.placeholders() - set(ctx.values))
    if missing:
        why = "which setup saves when a run starts" if missing[0] in setup_saves else "which no scenario given defines"
        return Trial(f"read {read.role}: not tried (it uses {{{missing[0]}}}, {why})", tried=False)
    wanted = [m for m in MODES if m in modes]
    tries = wanted or _gives(read)  # nothing says how it is used: any shape it answers in will do
    answers, errors = [], []
    for mode in tries:
        try:
            answers.append(_answer(read, mode, ctx))
        except ReadFailed as err:
            if err.unreachable:
                return Trial(f"{read.located}: {err}", failed=True, unreachable=True)
            errors.append((mode, str(err)))
            if wanted:
                break
        except Exception as err:  # a plugin's read kind may fail in its own way: still one located line
            errors.append((mode, f"{type(err).__name__}: {err}"))
            break
    if errors and (wanted or not answers):
        reasons = {why for _, why in errors}
        text = reasons.pop() if len(reasons) == 1 else \
            "; ".join(f"as {'rows' if mode == 'rows' else 'one value'}: {why}" for mode, why in errors)
        return Trial(f"{read.located}: {text}", failed=True)
    return Trial(f"read {read.role}: answered, {answers[0]} ({read.describe()})")


def try_reads(profile, scenario, setup_saves: set, say) -> list[Trial]:
    """Every read once, each one line through say() as it answers."""
    ctx = ReadContext(Datastores(profile.datastores), run_values(scenario), profile.control_host)
    uses = read_uses(profile, scenario)
    trials = []
    try:
        for role, read in profile.reads.items():
            trial = try_read(read, uses.get(role, set()), ctx, setup_saves)
            say(trial.line)
            trials.append(trial)
    finally:
        ctx.datastores.close()
    return trials
