-- Airflow's metadata database `airflow`, owned by the login role `airflow`, which may also read the
-- application's tables for the create_views DAG's data-quality check (it never writes to them).
-- Run by psql as the superuser against the application database, at every `up` (idempotent).
-- The password is read from the environment of psql (AIRFLOW_DB_PASSWORD), never from this file.
\getenv airflow_password AIRFLOW_DB_PASSWORD
\if :{?airflow_password}
\else
    \echo '020-airflow.sql: AIRFLOW_DB_PASSWORD is not set in the environment'
    SELECT 1 / 0 AS airflow_db_password_is_missing;
\endif

SELECT format('CREATE ROLE %I WITH LOGIN PASSWORD %L', 'airflow', :'airflow_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'airflow') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD %L',
              'airflow', :'airflow_password') \gexec

-- The metadata database (Airflow's tables go to its public schema, which its owner controls).
SELECT 'CREATE DATABASE airflow OWNER airflow ENCODING ''UTF8'''
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'airflow') \gexec
ALTER DATABASE airflow OWNER TO airflow;

-- Read access to the application's tables, present and future (tables created later by the
-- superuser, e.g. by a later init script, are covered by the default privilege).
SELECT format('GRANT CONNECT ON DATABASE %I TO airflow', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO airflow;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO airflow;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO airflow;
