"""data_quality's bucket comparison on the real engines: PostgreSQL and Trino compute the same key
hashes, row digests and digest sums as Python, and rows held back by a paused connector are found by fetching only the few
buckets they fall in; after the connector resumes, the views reconcile again."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from realtime_platform.airflow import quality
from realtime_platform.key_buckets import REFINE_ABOVE, hash_sql, key_hash
from realtime_platform.column_types import digest_sums, digest_total, row_digest, row_digest_value
from realtime_platform.trino_client import connect
from tests.live.connectors import paused

pytestmark = pytest.mark.live

ROWS = 200
KEYS = [(1, 2), (-5, 7), (2**62, -(2**40)), (987654321987, 0)]


def sides(cfg):
    pg = psycopg.connect(cfg.postgres_dsn(), autocommit=True)
    trino = connect(cfg).cursor()

    def fetch_postgres(sql, params):
        with pg.cursor() as cursor:
            cursor.execute(sql, params or None)
            return cursor.fetchall()

    def fetch_trino(sql, params):
        trino.execute(sql)
        return trino.fetchall()

    return pg, fetch_postgres, fetch_trino


def test_both_engines_hash_keys_as_python_does(bootstrapped):
    pg, fetch_postgres, fetch_trino = sides(bootstrapped)
    h1, h2 = hash_sql(["a", "b"])
    values = ", ".join(f"(CAST({a} AS bigint), CAST({b} AS bigint))" for a, b in KEYS)
    sql = f"SELECT {h1}, {h2} FROM (VALUES {values}) AS t(a, b)"
    expected = [key_hash(k) for k in KEYS]
    assert [tuple(int(v) for v in r) for r in fetch_postgres(sql, {})] == expected
    assert [tuple(int(v) for v in r) for r in fetch_trino(sql, {})] == expected
    pg.close()


TEXTS = [("abc", None), ("é|x", "1"), (None, None), ("", "-"), ("ü" * 40, "3:abc")]


def test_both_engines_digest_rows_and_sum_them_as_python_does(bootstrapped):
    """The row digest of free texts (UTF-8 length prefixes, NULL as '-'), and its exact sum per engine."""
    pg, fetch_postgres, fetch_trino = sides(bootstrapped)
    literal = {"postgres": lambda v: "NULL::text" if v is None else f"'{v}'::text",
               "trino": lambda v: "CAST(NULL AS varchar)" if v is None else f"'{v}'"}
    expected = [row_digest_value(list(texts)) for texts in TEXTS]
    for engine, fetch in (("postgres", fetch_postgres), ("trino", fetch_trino)):
        rows = " UNION ALL ".join(f"SELECT {row_digest([(literal[engine](v), True) for v in texts], engine)}"
                                  for texts in TEXTS)
        assert sorted(int(r[0]) for r in fetch(rows, {})) == sorted(expected), engine  # UNION ALL keeps no order
        [sums] = fetch(f"SELECT {', '.join(digest_sums('d', engine))} FROM ({rows}) AS t(d)", {})
        assert digest_total([int(v) for v in sums]) == sum(expected), engine
    pg.close()


def test_rows_held_back_by_a_paused_connector_are_found_in_a_few_buckets(bootstrapped):
    cfg = bootstrapped
    pg, fetch_postgres, fetch_trino = sides(cfg)
    source_side, target_side = quality.sql_sides(fetch_postgres, fetch_trino)
    [person] = [c for c in quality.view_checks() if c.name == "person"]
    day = (date.today() + timedelta(days=1)).isoformat()
    pg.execute("DELETE FROM person WHERE name LIKE 'quality probe %'")  # left by an interrupted run
    quality.run_checks(day, source_side, target_side, checks=[person], attempts=20, wait_s=5, log=print)
    with paused(cfg.connect.url, "person"):
        pg.execute("INSERT INTO person (customer_id, name) "
                   f"SELECT g % 7, 'quality probe ' || g FROM generate_series(1, {ROWS}) AS g")
        with pytest.raises(quality.DataQualityError) as failure:
            quality.run_checks(day, source_side, target_side, checks=[person], attempts=1, log=print)
        [result] = failure.value.results
        print(result.describe())
        assert (result.missing, result.extra, result.duplicate_target) == (ROWS, 0, 0)
        assert result.source_rows - result.target_rows == ROWS
        assert 1 <= result.buckets_differing <= 3
        # Each side fetches the held-back rows plus at most a refined bucket's worth of others.
        assert result.keys_fetched <= 2 * (ROWS + REFINE_ABOVE), "fetched more than the differing buckets"
    try:
        [result] = quality.run_checks(day, source_side, target_side, checks=[person], attempts=10,
                                      wait_s=5, log=print)
        assert result.ok and result.keys_fetched == 0
    finally:
        pg.execute("DELETE FROM person WHERE name LIKE 'quality probe %'")
        pg.close()
