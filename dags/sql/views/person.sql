-- Current state of public.person as seen through Pinot's upsert table (one row per primary key,
-- latest change by Postgres LSN). Rows whose last change was a delete carry deleted = true and are
-- hidden here (Pinot 0.11 has no upsert delete support, so deletes are soft deletes).
CREATE OR REPLACE VIEW hive.views.person AS
SELECT
    id,
    customer_id,
    json_extract_scalar(source, '$.name') AS name,
    op,
    lsn,
    from_unixtime(ts_ms / 1e3) AS changed_at
FROM pinot.default.person
WHERE NOT deleted
