-- Orders of the last {{ params.orders_window_days }} days before the run's logical date ({{ ds }}),
-- read live from Pinot's upsert table (one row per order_id), deleted orders left out.
-- Window: [ds - N days, ds) in UTC on created_at (epoch ms in Pinot); the data-quality task applies
-- the same window to public.orders in PostgreSQL. Rebuilt by the create_views DAG every day.
CREATE OR REPLACE VIEW hive.views.orders
AS
SELECT
    order_id,
    customer_id,
    status,
    channel,
    country,
    amount,
    from_unixtime(created_at / 1e3, 'UTC') AS created_at,
    from_unixtime(updated_at / 1e3, 'UTC') AS updated_at
FROM pinot.default.orders
WHERE deleted = false
  AND created_at >= CAST(to_unixtime(TIMESTAMP '{{ macros.ds_add(ds, -params.orders_window_days) }} 00:00:00 UTC') * 1000 AS bigint)
  AND created_at < CAST(to_unixtime(TIMESTAMP '{{ ds }} 00:00:00 UTC') * 1000 AS bigint)
