CREATE TABLE IF NOT EXISTS orders (
    order_id        text PRIMARY KEY,
    idempotency_key text NOT NULL,
    product_id      text NOT NULL,
    user_id         text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_product ON orders (product_id);
