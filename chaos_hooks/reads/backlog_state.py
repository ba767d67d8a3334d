"""What a backlog read can say beyond its count: how much of it predates the run, who holds it, and which
keys are still queued (so loss can be told from what is merely in flight)."""
from dataclasses import dataclass, field


@dataclass
class BacklogState:
    count: int                       # this run's entries not yet acknowledged by the consumer
    before: int = 0                  # entries from before the run still queued (reported, never counted)
    holders: list[str] = field(default_factory=list)  # "consumer c1: 16 pending, idle 12.3s"
    keys: list[str] | None = None    # keys of this run's queued entries (None: the read cannot tell)


def text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
