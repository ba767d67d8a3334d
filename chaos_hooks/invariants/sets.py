"""Jepsen's set checker over idempotency keys, and the duplicates check.

Per key: ok if any op was acknowledged; else info if any outcome is unknown; else fail.
lost = acked but not persisted; unexpected = persisted but never attempted, or persisted although
every attempt definitely failed; recovered = unknown outcome but persisted.
"""
from collections import Counter
from dataclasses import dataclass, field

from ..history import INFO, KEY, OK, OUTCOME
from .base import Result


@dataclass
class SetAnalysis:
    attempted: set = field(default_factory=set)
    acked: set = field(default_factory=set)
    failed: set = field(default_factory=set)
    indeterminate: set = field(default_factory=set)
    persisted: set = field(default_factory=set)
    lost: set = field(default_factory=set)
    unexpected: set = field(default_factory=set)
    recovered: set = field(default_factory=set)
    duplicated: dict = field(default_factory=dict)  # key -> persisted rows

    def counts(self) -> dict:
        return {"attempted": len(self.attempted), "acked": len(self.acked), "failed": len(self.failed),
                "indeterminate": len(self.indeterminate), "lost": len(self.lost),
                "unexpected": len(self.unexpected), "recovered": len(self.recovered),
                "duplicated": len(self.duplicated)}


def acked_keys(ops) -> set:
    """Keys the client was told were accepted (any op of the key answered ok)."""
    return {op[KEY] for op in ops if op[OUTCOME] == OK}


def analyse(ops, persisted_keys) -> SetAnalysis:
    """ops: history ops; persisted_keys: one idempotency key per persisted row (repeats = duplicates)."""
    outcome: dict[str, str] = {}
    for op in ops:
        key, result = op[KEY], op[OUTCOME]
        prior = outcome.get(key)
        if result == OK or prior == OK:
            outcome[key] = OK
        elif result == INFO or prior == INFO:
            outcome[key] = INFO
        else:
            outcome[key] = result
    a = SetAnalysis()
    a.attempted = set(outcome)
    a.acked = {k for k, o in outcome.items() if o == OK}
    a.indeterminate = {k for k, o in outcome.items() if o == INFO}
    a.failed = a.attempted - a.acked - a.indeterminate
    rows = Counter(persisted_keys)
    a.persisted = set(rows)
    a.lost = a.acked - a.persisted
    a.unexpected = (a.persisted - a.attempted) | (a.persisted & a.failed)
    a.recovered = a.indeterminate & a.persisted
    a.duplicated = {k: n for k, n in rows.items() if n > 1}
    return a


def _sample(keys, n=5) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:n]) + (f" (+{len(keys) - n} more)" if len(keys) > n else "")


def no_data_loss(analysis: SetAnalysis, state, params) -> Result:
    a = analysis
    passed = not a.lost and not a.unexpected
    summary = (f"lost {len(a.lost)} of {len(a.acked)} acknowledged; unexpected {len(a.unexpected)}; "
               f"recovered {len(a.recovered)} of {len(a.indeterminate)} unknown-outcome")
    if a.lost:
        summary += f"; lost e.g. {_sample(a.lost, 3)}"
    return Result("no_data_loss", passed, summary, figure=len(a.lost),
                  evidence={"lost": sorted(a.lost), "unexpected": sorted(a.unexpected),
                            "recovered": sorted(a.recovered)})


def no_duplicates(analysis: SetAnalysis, state, params) -> Result:
    dup = analysis.duplicated
    extra = sum(n - 1 for n in dup.values())
    summary = (f"{len(dup)} idempotency keys persisted more than once ({extra} extra orders)" if dup
               else f"every idempotency key persisted at most once ({len(analysis.persisted)} keys)")
    return Result("no_duplicates", not dup, summary, figure=len(dup), evidence={"duplicated": dup})
