-- Superset's metadata database `superset`, owned by the login role `superset` (dashboards, charts,
-- users; Superset reads the data itself through Trino, so this role gets nothing else).
-- Run by psql as the superuser against the application database, at every `up` (idempotent).
-- The password is read from the environment of psql (SUPERSET_DB_PASSWORD), never from this file.
\getenv superset_password SUPERSET_DB_PASSWORD
\if :{?superset_password}
\else
    \echo '030-superset.sql: SUPERSET_DB_PASSWORD is not set in the environment'
    SELECT 1 / 0 AS superset_db_password_is_missing;
\endif

SELECT format('CREATE ROLE %I WITH LOGIN PASSWORD %L', 'superset', :'superset_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'superset') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD %L',
              'superset', :'superset_password') \gexec

SELECT 'CREATE DATABASE superset OWNER superset ENCODING ''UTF8'''
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'superset') \gexec
ALTER DATABASE superset OWNER TO superset;
