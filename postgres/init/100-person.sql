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

-- Debezium's read access and the stream's publication (debezium/person.json: publication.name).
\set source_table public.person
\set publication dbz_person
\ir lib/cdc-source.psql
