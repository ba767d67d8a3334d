"""Eventpipe settings from the environment, shared by the ingest and the consumer."""
import os
from dataclasses import dataclass, field

KNOWN_BUGS = ("ack-before-commit", "parallel-consumer", "no-dedupe")
STREAM = "EVENTS"
SUBJECT = "events.in"
CONSUMER = "writer"


@dataclass
class Settings:
    nats_url: str
    database_url: str
    bugs: frozenset = field(default_factory=frozenset)

    @classmethod
    def from_env(cls) -> "Settings":
        bugs = frozenset(b.strip() for b in os.environ.get("EVENTPIPE_BUGS", "").split(",") if b.strip())
        unknown = bugs - set(KNOWN_BUGS)
        if unknown:
            raise SystemExit(f"EVENTPIPE_BUGS: unknown bug switch {sorted(unknown)}; known: {', '.join(KNOWN_BUGS)}")
        return cls(
            nats_url=os.environ.get("EVENTPIPE_NATS_URL", "nats://127.0.0.1:4222"),
            database_url=os.environ.get("EVENTPIPE_DATABASE_URL", "postgresql://127.0.0.1:5432/events"),
            bugs=bugs,
        )
