-- Report: orders and revenue per day (UTC) and channel over the window of hive.views.orders.
-- Refreshed atomically: every run writes a new Parquet table, orders_by_day__<run>_<try>, and only
-- then points the view hive.reports.orders_by_day at it. Replacing a view is one metastore update,
-- so a reader sees the previous report or the new one, never none and never half of one; a run
-- that fails (Trino killed in the middle of the CREATE TABLE AS) leaves the previous report in
-- place. The create_views DAG's prune_reports task drops versions no view reads any more.
{% set version = 'orders_by_day__' ~ (dag_run.run_after | ts_nodash | lower) ~ '_' ~ ti.try_number %}
CREATE SCHEMA IF NOT EXISTS hive.reports WITH (location = 's3://{{ params.s3_bucket }}/reports/');

CREATE TABLE hive.reports.{{ version }}
WITH (format = 'PARQUET')
AS
SELECT
    CAST(created_at AS date) AS day,
    channel,
    count(*) AS orders,
    count(DISTINCT customer_id) AS customers,
    round(sum(amount), 2) AS revenue
FROM hive.views.orders
GROUP BY CAST(created_at AS date), channel;

CREATE OR REPLACE VIEW hive.reports.orders_by_day AS SELECT * FROM hive.reports.{{ version }};
