-- Source table of the person stream.
CREATE TABLE IF NOT EXISTS public.person (
    id          BIGSERIAL NOT NULL,
    customer_id BIGINT    NOT NULL,
    name        TEXT      NOT NULL,
    PRIMARY KEY (id, customer_id)
);
-- DEFAULT replica identity logs the primary key in `before` of updates and deletes: enough for
-- Pinot to find the row a delete removes, without the WAL cost of FULL.
ALTER TABLE public.person REPLICA IDENTITY DEFAULT;

-- What Debezium needs for this table (its role and debezium.heartbeat: 010-debezium.sql): read
-- access for the snapshot, and the stream's publication, created here because that needs table
-- ownership the role must not have (publication.autocreate.mode=disabled).
\getenv debezium_user DEBEZIUM_USER
SELECT format('GRANT SELECT ON public.person TO %I', :'debezium_user') \gexec
SELECT 'CREATE PUBLICATION dbz_person FOR TABLE public.person, debezium.heartbeat'
WHERE NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'dbz_person') \gexec
