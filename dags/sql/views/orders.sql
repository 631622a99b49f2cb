-- Column expressions: realtime_platform/column_types.py (exact types: decimal, microseconds).
-- Orders of the last {{ params.orders_window_days }} days before the run date, read live from Pinot's
-- upsert table (one row per order_id), deleted orders left out. The run date is the logical date,
-- or the day the run was due when it has none (realtime_platform/airflow/run_date.py: runs started
-- through the API or by an asset event may have no logical date in Airflow 3).
-- Window: [run date - N days, run date) in UTC on created_at (epoch microseconds in Pinot); the data-quality
-- task applies the same window to public.orders in PostgreSQL. Rebuilt by create_views every day.
{% set day = run_date(dag_run) %}
CREATE OR REPLACE VIEW hive.views.orders
AS
SELECT
    order_id,
    customer_id,
    status,
    channel,
    country,
    CAST(amount AS decimal(12,2)) AS amount,
    CAST(from_unixtime_nanos(created_at * 1000) AT TIME ZONE 'UTC' AS timestamp(6)) AS created_at,
    CAST(from_unixtime_nanos(updated_at * 1000) AT TIME ZONE 'UTC' AS timestamp(6)) AS updated_at
FROM pinot.default.orders
WHERE deleted = false
  AND created_at >= CAST(to_unixtime(TIMESTAMP '{{ macros.ds_add(day, -params.orders_window_days) }} 00:00:00 UTC') * 1000000 AS bigint)
  AND created_at < CAST(to_unixtime(TIMESTAMP '{{ day }} 00:00:00 UTC') * 1000000 AS bigint)
