-- Airflow's metadata database `airflow`, owned by the login role `airflow`, which may also read the
-- application's tables for the create_views DAG's data-quality check (it never writes to them).
-- Run by psql as the superuser against the application database, at every `up` (idempotent).
-- The password is read from the environment of psql (AIRFLOW_DB_PASSWORD), never from this file.
\set app airflow
\set password_variable AIRFLOW_DB_PASSWORD
\getenv password AIRFLOW_DB_PASSWORD
\ir lib/metadata-database.psql

-- Read access to the application's tables, present and future (tables created later by the
-- superuser, e.g. by a later init script, are covered by the default privilege).
SELECT format('GRANT CONNECT ON DATABASE %I TO airflow', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO airflow;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO airflow;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO airflow;

-- The compact_streams DAG asks Debezium for incremental snapshots of a stream's table by writing
-- to its signal table (realtime_platform/compaction.py); it reads and writes nothing else there.
GRANT USAGE ON SCHEMA debezium TO airflow;
GRANT SELECT, INSERT, DELETE ON debezium.signal TO airflow;  -- DELETE ... WHERE reads it too
