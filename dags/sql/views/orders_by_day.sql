-- Report: orders and revenue per day (UTC) and channel over the window of hive.views.orders,
-- materialized as a Parquet table on S3. Rebuilt whole at every run (drop, then create as select),
-- so running it again gives the same table, never duplicated rows. The window ends before the
-- logical date ({{ ds }}): only complete days are reported.
CREATE SCHEMA IF NOT EXISTS hive.reports WITH (location = 's3://{{ params.s3_bucket }}/reports/');

DROP TABLE IF EXISTS hive.reports.orders_by_day;

CREATE TABLE hive.reports.orders_by_day
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
