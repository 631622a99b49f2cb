-- Debezium's least-privilege role: it may log in and stream logical replication. It owns nothing
-- and is not a superuser. Each stream's own file (1NN-<stream>.sql, applied after this one) grants
-- it read access to its table, for the initial snapshot, and creates the stream's publication.
-- The password is read from the environment of psql (DEBEZIUM_PASSWORD), never from this file.
\getenv debezium_password DEBEZIUM_PASSWORD
\getenv debezium_user DEBEZIUM_USER

SELECT format('CREATE ROLE %I WITH LOGIN REPLICATION PASSWORD %L', :'debezium_user', :'debezium_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'debezium_user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
              :'debezium_user', :'debezium_password') \gexec

SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'debezium_user') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'debezium_user') \gexec

-- Heartbeats write here, so the replication slot advances even when captured tables are quiet
-- (otherwise the slot would pin WAL produced by other activity).
CREATE SCHEMA IF NOT EXISTS debezium;
CREATE TABLE IF NOT EXISTS debezium.heartbeat (
    id INT PRIMARY KEY,
    ts TIMESTAMPTZ NOT NULL
);
SELECT format('GRANT USAGE ON SCHEMA debezium TO %I', :'debezium_user') \gexec
SELECT format('GRANT SELECT, INSERT, UPDATE ON debezium.heartbeat TO %I', :'debezium_user') \gexec

-- Signals to the connectors (their signal.data.collection): `platformctl stream sync` asks here for
-- an incremental snapshot of a table, and the connector writes its snapshot windows here too. It is
-- in every stream's publication; each connector acts only on snapshots of its own tables.
CREATE TABLE IF NOT EXISTS debezium.signal (
    id   VARCHAR(64) PRIMARY KEY,
    type VARCHAR(32) NOT NULL,
    data VARCHAR(2048)
);
SELECT format('GRANT SELECT, INSERT, DELETE ON debezium.signal TO %I', :'debezium_user') \gexec
