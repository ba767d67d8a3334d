"""An invariant is a function of (history analysis, observed state, bounds) returning a Result."""
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    passed: bool
    summary: str
    figure: float | int | None = None
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "summary": self.summary, "figure": self.figure}


@dataclass
class Invariant:
    name: str
    check: object  # callable(analysis, state, params) -> Result
    params: dict = field(default_factory=dict)  # bound name -> type for scenario validation
