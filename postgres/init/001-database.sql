-- The application database. Run by psql as the superuser against the `postgres` database in the
-- local mode; in compose the image creates it from POSTGRES_DB, so this is a no-op there.
SELECT 'CREATE DATABASE ' || quote_ident(:'dbname')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \gexec
