"""The latest TSum patterns of a view as custom properties of its dataset.

`LatestTSumPatterns` is an `add_dataset_properties` resolver (see datahub/recipes/trino_hive.yml):
for `hive.views.orders` it returns the rows of `hive.summaries.orders_patterns` with the largest
`run_date` (written by the `tsum_summaries` DAG), as `tsum.*` properties; other datasets get none.
Trino is read once per process and view (`clear_cache()` before a new run).
"""

from __future__ import annotations

import logging
import os
from functools import cache

from realtime_platform.config import TRINO_USER, Endpoint

log = logging.getLogger(__name__)


def summarized_views() -> dict[str, str]:
    """Dataset name in Trino → its TSum patterns table, for the streams whose manifest asks for
    a summary (realtime_platform/streams.py; the tsum_summaries DAG writes those tables)."""
    from realtime_platform.streams import streams

    return {s.view: s.patterns_table for s in streams() if s.summarize}


def _trino_cursor():
    import trino

    if "TRINO_URL" not in os.environ:
        raise RuntimeError("TRINO_URL is not set: the catalog reads TSum patterns from Trino there "
                           "(the platform's settings provide it: PlatformSettings.service_environment)")
    endpoint = Endpoint.parse(os.environ["TRINO_URL"])
    conn = trino.dbapi.connect(host=endpoint.host, port=endpoint.port, http_scheme=endpoint.scheme,
                               user=os.environ.get("TRINO_USER", TRINO_USER))
    return conn.cursor()


def latest_patterns(patterns_table: str) -> tuple[str | None, list[dict]]:
    """(run_date, rows ordered by rank) of the latest run in `patterns_table`; (None, []) if none."""
    cur = _trino_cursor()
    cur.execute(
        f"SELECT rank, pattern, saving, coverage, uncovered_share, total_rows, run_date "
        f"FROM {patterns_table} WHERE run_date = (SELECT max(run_date) FROM {patterns_table}) "
        f"ORDER BY rank"
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return (str(rows[0]["run_date"]) if rows else None), rows


def pattern_properties(table: str, run_date: str | None, rows: list[dict]) -> dict[str, str]:
    """Custom properties for a dataset from its latest pattern rows (strings only)."""
    if not rows:
        return {}
    props = {
        "tsum.source": table,
        "tsum.run_date": run_date or "",
        "tsum.patterns": str(len(rows)),
        "tsum.total_rows": str(rows[0]["total_rows"]),
    }
    for row in rows:
        props[f"tsum.pattern.{row['rank']}"] = (
            f"{row['pattern']} (saving {row['saving']}, coverage {row['coverage']:.4g}, "
            f"uncovered {row['uncovered_share']:.4g})"
        )
    return props


@cache
def properties_for(view: str) -> tuple[tuple[str, str], ...]:
    table = summarized_views()[view]
    try:
        run_date, rows = latest_patterns(table)
    except Exception as exc:  # noqa: BLE001 - no summaries yet (table missing): the catalog is still useful
        log.warning("TSum patterns of %s not attached: %s", view, exc)
        return ()
    log.info("TSum patterns of %s: %d rows of run_date %s", view, len(rows), run_date)
    return tuple(pattern_properties(table, run_date, rows).items())


def clear_cache() -> None:
    properties_for.cache_clear()


def _dataset_name(urn: str) -> str | None:
    """`hive.views.orders` from urn:li:dataset:(urn:li:dataPlatform:trino,hive.views.orders,PROD)."""
    if not urn.startswith("urn:li:dataset:(urn:li:dataPlatform:trino,"):
        return None
    return urn[len("urn:li:dataset:(urn:li:dataPlatform:trino,"):].rsplit(",", 1)[0]


try:
    from datahub.ingestion.transformer.add_dataset_properties import (
        AddDatasetPropertiesResolverBase as _Base,
    )
except ImportError:  # DataHub is not installed: the helpers above still work
    _Base = object  # type: ignore[assignment,misc]


class LatestTSumPatterns(_Base):
    """add_dataset_properties resolver: `tsum.*` properties for the summarized views."""

    def get_properties_to_add(self, entity_urn: str) -> dict[str, str]:
        name = _dataset_name(entity_urn)
        if name not in summarized_views():
            return {}
        return dict(properties_for(name))
