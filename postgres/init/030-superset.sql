-- Superset's metadata database `superset`, owned by the login role `superset` (dashboards, charts,
-- users; Superset reads the data itself through Trino, so this role gets nothing else).
-- Run by psql as the superuser against the application database, at every `up` (idempotent).
-- The password is read from the environment of psql (SUPERSET_DB_PASSWORD), never from this file.
\set app superset
\set password_variable SUPERSET_DB_PASSWORD
\getenv password SUPERSET_DB_PASSWORD
\ir lib/metadata-database.psql
