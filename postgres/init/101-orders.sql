-- Source table of the orders stream. Timestamps are UTC without time zone: with
-- time.precision.mode=connect Debezium sends them as epoch milliseconds, which Pinot stores as is.
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
ALTER TABLE public.orders REPLICA IDENTITY DEFAULT;

-- What Debezium needs for this table (its role and debezium.heartbeat: 010-debezium.sql): read
-- access for the snapshot, and the stream's publication, created here because that needs table
-- ownership the role must not have (publication.autocreate.mode=disabled).
\getenv debezium_user DEBEZIUM_USER
SELECT format('GRANT SELECT ON public.orders TO %I', :'debezium_user') \gexec
SELECT 'CREATE PUBLICATION dbz_orders FOR TABLE public.orders, debezium.heartbeat'
WHERE NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'dbz_orders') \gexec
