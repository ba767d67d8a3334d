"""Event pipeline (reference system under test): HTTP ingest -> NATS JetStream -> consumer -> PostgreSQL."""
