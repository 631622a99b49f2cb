"""Adding a stream touches only its own files (docs/adding-a-stream.md).

The `shipments` stream of tests/live/fixtures/shipments (DDL, connector, Pinot schema and table,
view SQL, manifest) is copied into the repository, then applied as a user would: postgres/init,
`scripts/bootstrap.sh`, the DAGs. Inserts, updates and deletes reach Trino; `create_views` checks
the view against PostgreSQL, `tsum_summaries` summarizes it, and the catalog recipes describe it
with its lineage. Then the stream is removed again (files, connector and its offsets, slot,
publication, Pinot table, topic, views, tables) and the stack must look as it did before.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from realtime_platform.catalog import recipes, runner
from realtime_platform.local.airflow_client import AirflowClient
from realtime_platform.trino_client import query
from tests.live.conftest import run_bootstrap
from tests.live.fixture_streams import FixtureStream, snapshot_changes, stack_snapshot
from tests.live.polling import wait

pytestmark = pytest.mark.live

STREAM = FixtureStream("shipments")
NAME, VIEW, PATTERNS = STREAM.name, STREAM.view, STREAM.patterns
CARRIERS, STATUSES, COUNTRIES = ("dhl", "ups", "gls"), ("created", "in_transit", "delivered"), ("DE", "FR")


def source_rows(cfg) -> set[tuple]:
    with psycopg.connect(cfg.postgres_dsn()) as pg:
        return set(pg.execute("SELECT shipment_id, order_id, carrier, status, country FROM public.shipments"))


def view_rows(cfg) -> set[tuple]:
    return set(map(tuple, query(cfg, f"SELECT shipment_id, order_id, carrier, status, country FROM {VIEW}")))


def run(client: AirflowClient) -> dict[str, str]:
    client.wait_idle()
    state, tasks = client.wait_for_run(client.trigger())
    assert state == "success", f"{client.dag_id}: {tasks}"
    return tasks


@pytest.fixture
def clean_stack(bootstrapped):
    cfg = bootstrapped
    STREAM.remove(cfg)  # what an interrupted run may have left
    before = stack_snapshot(cfg, STREAM.files())
    assert not before["repository files"]
    yield cfg, before
    STREAM.remove(cfg)
    for dag_id, gone in (("create_views", NAME), ("tsum_summaries", f"summarize_{NAME}")):
        AirflowClient(cfg, dag_id).wait_for_task_ids(lambda ids: gone not in ids, f"task {gone} gone")
    snapshot_changes(before, stack_snapshot(cfg, STREAM.files()), NAME)


def test_a_stream_added_from_its_own_files_flows_is_checked_summarized_catalogued_and_removed(
        clean_stack, tmp_path):
    cfg, _ = clean_stack
    views, summaries = AirflowClient(cfg, "create_views"), AirflowClient(cfg, "tsum_summaries")
    catalog_dag = AirflowClient(cfg, "datahub_ingestion")  # its catalog must not keep the stream
    for client in (views, summaries, catalog_dag):
        client.wait_until_known()
    catalog_was_paused = catalog_dag.is_paused()
    catalog_dag.wait_idle()
    catalog_dag.set_paused(True)
    try:
        added = STREAM.copy_in()
        print("files added for the stream:", *added, sep="\n  ")
        assert {Path(p).parts[0] for p in added} == {"postgres", "debezium", "pinot", "dags"}

        STREAM.apply_ddl(cfg)
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
            pg.execute("INSERT INTO public.shipments (order_id, carrier, status, country) "
                       "SELECT g, (%s::text[])[1 + g %% 3], (%s::text[])[1 + g %% 3], (%s::text[])[1 + g %% 2] "
                       "FROM generate_series(1, 300) AS g", (list(CARRIERS), list(STATUSES), list(COUNTRIES)))
        bootstrap = run_bootstrap(cfg)
        assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
        assert f"connector {NAME}: created" in bootstrap.stdout, bootstrap.stdout
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:  # streamed, not snapshotted
            pg.execute("INSERT INTO public.shipments (order_id, carrier, status, country) "
                       "SELECT g, 'dhl', 'created', 'DE' FROM generate_series(301, 400) AS g")
            pg.execute("UPDATE public.shipments SET status = 'delivered' WHERE shipment_id % 5 = 0")
            pg.execute("DELETE FROM public.shipments WHERE shipment_id % 7 = 0")
        expected = source_rows(cfg)
        assert len(expected) == 400 - 400 // 7
        wait("the view equals the table", lambda: view_rows(cfg) == expected, 180)

        views.wait_for_task_ids(lambda ids: NAME in ids, f"task {NAME}")
        summaries.wait_for_task_ids(lambda ids: f"summarize_{NAME}" in ids, f"task summarize_{NAME}")
        views.wait_idle()
        views.set_paused(False)
        run_id = views.trigger()
        state, tasks = views.wait_for_run(run_id)
        assert state == "success" and tasks[NAME] == "success", tasks
        result = views.return_value(run_id, "data_quality")
        assert result[NAME]["source_rows"] == result[NAME]["target_rows"] == len(expected), result[NAME]
        assert result[NAME]["missing"] == result[NAME]["extra"] == 0, result[NAME]

        summaries.set_paused(False)
        tasks = run(summaries)
        assert tasks[f"summarize_{NAME}"] == "success", tasks
        patterns = query(cfg, f"SELECT pattern, coverage FROM {PATTERNS} "
                              f"WHERE run_date = (SELECT max(run_date) FROM {PATTERNS})")
        assert patterns, "no patterns stored"
        columns = {key for pattern, _ in patterns for key in json.loads(pattern)}
        assert columns <= {"carrier", "status", "country"}, columns
        # The fixture's rows repeat (carrier, status) pairs: TSum finds patterns that cover them.
        assert sum(coverage for _, coverage in patterns) > 50, patterns

        catalog = {**recipes.catalog_environment(), "DATAHUB_STATE_DIR": str(tmp_path / "datahub")}
        catalog.pop("DATAHUB_GMS_URL", None)
        runner.run_all(["trino_pinot", "pinot", "trino_hive"], environ=catalog)
        trino_view = f"urn:li:dataset:(urn:li:dataPlatform:trino,{VIEW},PROD)"
        trino_table = "urn:li:dataset:(urn:li:dataPlatform:trino,pinot.default.shipments,PROD)"
        pinot_table = "urn:li:dataset:(urn:li:dataPlatform:pinot,shipments,PROD)"
        topic = "urn:li:dataset:(urn:li:dataPlatform:kafka,shipments,PROD)"
        source = "urn:li:dataset:(urn:li:dataPlatform:postgres,app.public.shipments,PROD)"

        def upstreams(urn: str) -> list[str]:
            entity = runner.get(urn, ["upstreamLineage"], catalog)
            assert entity, f"{urn} is not in the catalog"
            return [u["dataset"] for u in entity["upstreamLineage"]["upstreams"]]

        assert trino_table in upstreams(trino_view)
        assert pinot_table in upstreams(trino_table)
        assert upstreams(pinot_table) == [topic]
        assert upstreams(topic) == [source]
        properties = runner.get(trino_view, ["datasetProperties"], catalog)["datasetProperties"]
        assert int(properties["customProperties"]["tsum.patterns"]) == len(patterns)
    finally:
        catalog_dag.set_paused(catalog_was_paused)
