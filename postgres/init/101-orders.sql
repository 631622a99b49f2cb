-- Source table of the orders stream. Timestamps are UTC without time zone: Debezium sends them as
-- epoch microseconds (time.precision.mode=adaptive_time_microseconds), which Pinot stores as is.
CREATE TABLE IF NOT EXISTS public.orders (
    order_id    BIGSERIAL      NOT NULL,
    customer_id BIGINT         NOT NULL,
    status      TEXT           NOT NULL,
    channel     TEXT           NOT NULL,
    country     TEXT           NOT NULL,
    amount      NUMERIC(12, 2) NOT NULL,
    created_at  TIMESTAMP      NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at  TIMESTAMP      NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    PRIMARY KEY (order_id)
);

-- Debezium's read access and the stream's publication (debezium/orders.json: publication.name).
\set source_table public.orders
\set publication dbz_orders
\ir lib/cdc-source.psql
