"""Invariants: pure functions of (history, reads, params) returning a three-valued Result.

valid: it holds; invalid: it is broken (the figure says by how much); unknown: it could not be decided
(a read failed, nothing was acknowledged, ...). Each runs isolated: an exception or an unreadable read makes
that one unknown and never stops the others.
"""
import logging
import traceback
from dataclasses import dataclass, field

VALID, INVALID, UNKNOWN = "valid", "invalid", "unknown"
log = logging.getLogger("locust_chaos.invariants")


class ReadUnavailable(Exception):
    """A read an invariant needs could not be made; the invariant is unknown."""


@dataclass
class Result:
    name: str
    status: str
    summary: str
    figure: float | int | None = None
    evidence: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == VALID

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "passed": self.passed, "summary": self.summary,
                "figure": self.figure}


@dataclass
class Invariant:
    name: str
    check: object  # callable(history, reads, params) -> Result
    params: dict = field(default_factory=dict)  # bound name -> "duration" | "int" | "str" | "share"
    needs: dict = field(default_factory=dict)   # read role -> "rows" | "value"
    description: str = ""


def run_isolated(inv: Invariant, history, reads, params: dict) -> Result:
    try:
        result = inv.check(history, reads, params)
        result.name = inv.name
        return result
    except ReadUnavailable as err:
        return Result(inv.name, UNKNOWN, f"undecided: {err}")
    except Exception as err:  # a checker bug must not take the verdict down with it
        log.error("invariant %s raised:\n%s", inv.name, traceback.format_exc())
        return Result(inv.name, UNKNOWN, f"undecided: the check raised {type(err).__name__}: {err}")


def sample(items, n: int = 3) -> str:
    items = sorted(str(i) for i in items)
    return ", ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "")
