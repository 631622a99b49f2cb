-- Source table of the person stream.
CREATE TABLE IF NOT EXISTS public.person (
    id          BIGSERIAL NOT NULL,
    customer_id BIGINT    NOT NULL,
    name        TEXT      NOT NULL,
    PRIMARY KEY (id, customer_id)
);

-- Debezium's read access and the stream's publication (debezium/person.json: publication.name).
\set source_table public.person
\set publication dbz_person
\ir lib/cdc-source.psql
