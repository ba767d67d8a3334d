-- request_key is UNIQUE as well as hold_id: a redelivered stream entry must never become a second row.
CREATE TABLE IF NOT EXISTS holds (
    hold_id     text PRIMARY KEY,
    request_key text NOT NULL UNIQUE,
    sku         text NOT NULL,
    kept_at     timestamptz NOT NULL DEFAULT now()
);
