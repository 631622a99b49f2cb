"""The data catalog on the live stack: the DAG's ingestion logic (realtime_platform.catalog, the
function each datahub_ingestion task calls) run in-process into the embedded DataHub Lite file,
then read back. Runs in-process because the shared .venv may not have acryl-datahub yet."""

from __future__ import annotations

import pytest

import datahub  # noqa: E402,F401 - a required dependency: missing fails, never skips
from realtime_platform.airflow.reports import current_version  # noqa: E402
from realtime_platform.catalog import environment, recipes, runner  # noqa: E402
from realtime_platform.trino_client import query  # noqa: E402
from tests.live.airflow_runs import run_dag  # noqa: E402
from tests.live.orders import insert_orders, wait_for_cdc  # noqa: E402

pytestmark = pytest.mark.live


def trino(name: str) -> str:
    return f"urn:li:dataset:(urn:li:dataPlatform:trino,{name},PROD)"


ORDERS = trino("hive.views.orders")
PERSON = trino("hive.views.person")
REPORT = trino("hive.reports.orders_by_day")
PINOT_ORDERS = trino("pinot.default.orders")
PINOT_PERSON = trino("pinot.default.person")
TERM_ORDER = "urn:li:glossaryTerm:Commerce.Order"
PRODUCT = "urn:li:dataProduct:orders-by-day"
DESCRIBED_DASHBOARD = "urn:li:dashboard:(superset,orders-by-day)"  # only while Superset is down
CREATE_ORDERS_VIEW_JOB = "urn:li:dataJob:(urn:li:dataFlow:(airflow,create_views,prod),orders)"
CREATE_REPORT_JOB = "urn:li:dataJob:(urn:li:dataFlow:(airflow,create_views,prod),orders_by_day)"


@pytest.fixture(scope="module")
def catalog(bootstrapped, tmp_path_factory):
    """Every recipe run once, into a fresh Lite file (env as the DAG's tasks see it), after the
    views and today's TSum patterns exist, so the catalog has something definite to show."""
    import os

    insert_orders(bootstrapped, count=60, seed=25)  # its own orders in the views' window
    wait_for_cdc(bootstrapped)
    run_dag(bootstrapped, "create_views")
    run_dag(bootstrapped, "tsum_summaries")
    env = {**os.environ, "DATAHUB_STATE_DIR": str(tmp_path_factory.mktemp("datahub"))}
    env.pop("DATAHUB_GMS_URL", None)
    summaries = environment.run_all(recipes.recipe_names(), env)  # as the DAG runs them
    assert [s["recipe"] for s in summaries] == recipes.recipe_names()
    # airflow_lineage reads the plugin's file of this fresh state folder: none (see the DAG test);
    # glue has no Glue to read with the local warehouse (WAREHOUSE=local).
    by_name = {s["recipe"]: s for s in summaries}
    assert "file metastore" in by_name["glue"].get("skipped", ""), by_name["glue"]
    sources = [s for s in summaries if s["recipe"] not in ("airflow_lineage", "glue")]
    assert all(s.get("sink") == "datahub-lite" and s["records_written"] > 0 for s in sources), summaries
    return env


@pytest.fixture(scope="module")
def superset_dashboard(catalog) -> str:
    """The URN DataHub's superset source gave the "Orders by day" dashboard (Superset's id)."""
    for urn in runner.list_urns(catalog):
        if urn.startswith("urn:li:dashboard:(superset,"):
            info = runner.get(urn, ["dashboardInfo"], catalog)
            if info and info["dashboardInfo"]["title"] == "Orders by day":
                return urn
    pytest.fail("no Superset dashboard titled 'Orders by day' in the catalog")


def test_catalog_holds_views_report_pinot_tables_term_product(catalog):
    urns = set(runner.list_urns(catalog))
    expected = {ORDERS, PERSON, REPORT, PINOT_ORDERS, PINOT_PERSON, TERM_ORDER, PRODUCT,
                "urn:li:domain:marketing"}
    assert expected <= urns, sorted(expected - urns)


def test_glossary_term_order_has_its_definition(catalog):
    info = runner.get(TERM_ORDER, environ=catalog)["glossaryTermInfo"]
    assert info["name"] == "Order"
    assert "purchase placed by a customer" in info["definition"]


def test_data_product_links_the_dashboard_from_supersets_own_source(catalog, superset_dashboard):
    product = runner.get(PRODUCT, environ=catalog)
    props = product["dataProductProperties"]
    assert props["name"] == "Orders by day"
    assets = [a["destinationUrn"] for a in props["assets"]]
    assert superset_dashboard in assets
    assert DESCRIBED_DASHBOARD not in assets
    assert runner.get(DESCRIBED_DASHBOARD, ["status"], catalog)["status"]["removed"] is True
    assert "ownership" in product
    dashboard = runner.get(superset_dashboard, environ=catalog)["dashboardInfo"]
    assert dashboard["dashboardUrl"].endswith("/superset/dashboard/orders-by-day/")


def test_dashboard_lineage_reaches_the_report_through_charts_and_datasets(catalog, superset_dashboard):
    charts = runner.get(superset_dashboard, ["dashboardInfo"], catalog)["dashboardInfo"]["charts"]
    assert charts, "the dashboard's charts"
    inputs = set()
    for chart in charts:
        info = runner.get(chart, ["chartInfo"], catalog)
        assert info, f"{chart} is catalogued"
        inputs |= {i["string"] if isinstance(i, dict) else i for i in info["chartInfo"].get("inputs", [])}
    superset_datasets = {urn for urn in inputs if ",hive.reports.orders_by_day," in urn}
    assert superset_datasets, inputs
    for urn in superset_datasets:
        upstreams = runner.get(urn, ["upstreamLineage"], catalog)["upstreamLineage"]["upstreams"]
        assert REPORT in [u["dataset"] for u in upstreams]


def test_view_lineage_reaches_the_pinot_table(catalog):
    upstreams = runner.get(ORDERS, environ=catalog)["upstreamLineage"]["upstreams"]
    assert PINOT_ORDERS in [u["dataset"] for u in upstreams]
    person_upstreams = runner.get(PERSON, environ=catalog)["upstreamLineage"]["upstreams"]
    assert PINOT_PERSON in [u["dataset"] for u in person_upstreams]


def test_pinot_tables_are_pinot_datasets_fed_by_kafka_from_postgres(catalog):
    pinot = "urn:li:dataset:(urn:li:dataPlatform:pinot,orders,PROD)"
    topic = "urn:li:dataset:(urn:li:dataPlatform:kafka,orders,PROD)"
    source = "urn:li:dataset:(urn:li:dataPlatform:postgres,app.public.orders,PROD)"
    trino_table = runner.get(PINOT_ORDERS, environ=catalog)
    assert trino_table["siblings"]["siblings"] == [pinot]
    assert pinot in [u["dataset"] for u in trino_table["upstreamLineage"]["upstreams"]]
    assert "schemaMetadata" in trino_table, "the trino_pinot recipe's columns are kept"
    pinot_table = runner.get(pinot, environ=catalog)
    assert {f["fieldPath"] for f in pinot_table["schemaMetadata"]["fields"]} >= {"order_id", "status", "amount"}
    assert [u["dataset"] for u in pinot_table["upstreamLineage"]["upstreams"]] == [topic]
    assert [u["dataset"] for u in runner.get(topic, environ=catalog)["upstreamLineage"]["upstreams"]] == [source]


def test_views_carry_terms_and_no_glue_sibling_on_the_local_warehouse(catalog):
    orders = runner.get(ORDERS, environ=catalog)
    siblings = (orders.get("siblings") or {}).get("siblings", [])
    assert not [s for s in siblings if "dataPlatform:glue" in s], "no Glue locally: no dangling sibling"
    assert not [u for u in runner.list_urns(catalog) if "dataPlatform:glue" in u]
    assert TERM_ORDER in [t["urn"] for t in orders["glossaryTerms"]["terms"]]


def test_latest_tsum_patterns_are_attached_to_the_orders_view(catalog, bootstrapped):
    from realtime_platform.catalog import tsum

    props = runner.get(ORDERS, environ=catalog)["datasetProperties"]["customProperties"]
    # TRINO_URL and the rest of the platform's settings, as the catalog's resolver gets them
    with runner.patched_environ(recipes.catalog_environment(catalog)):
        run_date, rows = tsum.latest_patterns("hive.summaries.orders_patterns")
    assert rows, "the catalog fixture ran tsum_summaries, so patterns must exist"
    assert props["tsum.run_date"] == run_date
    assert props["tsum.patterns"] == str(len(rows))
    assert props["tsum.pattern.1"].startswith(rows[0]["pattern"])


def test_search_for_order_finds_views_term_product_and_dashboard(catalog, superset_dashboard):
    found = {urn for urn, _ in runner.search("order", environ=catalog)}
    assert {ORDERS, REPORT, PINOT_ORDERS, TERM_ORDER, PRODUCT, superset_dashboard} <= found, sorted(found)
    assert DESCRIBED_DASHBOARD not in found, "soft-deleted while Superset's source describes it"


def test_datahub_ingestion_dag_runs_through_airflow(bootstrapped, catalog):  # catalog: create_views ran
    from realtime_platform.local.airflow_client import AirflowClient

    client = AirflowClient(bootstrapped, "datahub_ingestion")
    client.wait_until_known()
    client.wait_idle()
    client.set_paused(False)
    state, tasks = client.wait_for_run(client.trigger())
    assert state == "success", tasks
    assert set(tasks) == set(recipes.recipe_names())
    assert tasks["glue"] == "skipped", "the local warehouse has no Glue to catalog"
    client.wait_idle()
    # The platform's own catalog now holds the lineage DataHub's Airflow plugin recorded while
    # create_views ran (this module's fixture ran it): view task ← Pinot table, → view.
    job = runner.get(CREATE_ORDERS_VIEW_JOB, ["dataJobInputOutput"], _platform_catalog(bootstrapped))
    assert job, f"{CREATE_ORDERS_VIEW_JOB} is not in the platform's catalog"
    io = job["dataJobInputOutput"]
    assert PINOT_ORDERS in io["inputDatasets"], io
    assert ORDERS in io["outputDatasets"], io
    # A report is its view: the task's lineage names the view, never the versioned table behind it
    # that prune_reports drops later, so the catalog search has no such table to keep listing (#25).
    report_io = runner.get(CREATE_REPORT_JOB, ["dataJobInputOutput"], _platform_catalog(bootstrapped))
    report_io = report_io["dataJobInputOutput"]
    assert REPORT in report_io["outputDatasets"], report_io
    assert not [urn for urn in report_io["inputDatasets"] + report_io["outputDatasets"] if "__" in urn], report_io
    current = current_version(lambda sql: query(bootstrapped, sql), "orders_by_day")
    assert current and not runner.search(current, _platform_catalog(bootstrapped)), current


def _platform_catalog(cfg) -> dict:
    import os

    env = {**os.environ, "DATAHUB_STATE_DIR": str(cfg.stack_dir / "datahub")}
    env.pop("DATAHUB_GMS_URL", None)
    return env
