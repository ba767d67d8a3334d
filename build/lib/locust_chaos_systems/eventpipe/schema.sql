-- The unique index events_dedupe (stream_key, seq) is created by the consumer, unless the
-- no-dedupe bug switch is on: that is what lets redelivered events be persisted twice.
CREATE TABLE IF NOT EXISTS events (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL,
    stream_key   text NOT NULL,
    seq          bigint NOT NULL,
    payload      jsonb,
    persisted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_stream_key ON events (stream_key);
