"""The reference systems locust-chaos proves its checkers on, each configured exactly as a user's system is
(a system.yaml for the embedded stack, a target profile, a locustfile in locustfiles/): `shop` (HTTP API ->
Redis Lua reservation -> Redis stream -> worker -> PostgreSQL) and `eventpipe` (HTTP ingest -> NATS JetStream ->
consumer -> PostgreSQL)."""
