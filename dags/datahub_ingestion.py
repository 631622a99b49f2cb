"""datahub_ingestion: the data catalog as code, refreshed after create_views has rebuilt the views.

One task per DataHub recipe of datahub/recipes/ (glossary, data products, Trino catalogs hive and
pinot, the Pinot tables with their Kafka topics and Postgres tables, Glue, Superset's dashboards, the lineage DataHub's Airflow plugin recorded). The superset
task is skipped while Superset does not answer. The logic lives in realtime_platform.catalog (DataHub's
Pipeline API), and each task runs its recipe in the catalog's own Python environment (.venv-datahub:
DataHub's trino and glue sources cannot share Airflow's). The sink is the embedded DataHub Lite file
`.state/datahub/lite.db`, or a DataHub server when DATAHUB_GMS_URL is set. A recipe for which
DataHub reports a failure fails its task, with DataHub's source and sink reports in the log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, Asset, task

from realtime_platform.streams import streams

# Updated by tsum_summaries once the patterns of the rebuilt views are stored, so the catalog
# always attaches the latest ones (one patterns table per stream manifest with `summarize:`).
PATTERNS = [Asset(s.patterns_table) for s in streams() if s.summarize]
# Fixed here (parsing must not read the recipes folder or import DataHub); a unit test checks it
# equals realtime_platform.catalog.recipes.recipe_names().
RECIPES = ("glossary", "data_products", "trino_pinot", "pinot", "trino_hive", "glue", "superset",
           "airflow_lineage")

with DAG(
    dag_id="datahub_ingestion",
    description="DataHub catalog (views, Pinot tables, Glue, glossary, data products, dashboards, task lineage)",
    doc_md=__doc__,
    schedule=PATTERNS,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,  # DataHub Lite is one SQLite file: one writer at a time
    dagrun_timeout=timedelta(minutes=30),
    tags=["datahub", "catalog", "metadata"],
    default_args={"owner": "platform", "retries": 2, "retry_delay": timedelta(minutes=1)},
):
    for name in RECIPES:

        @task(task_id=name, execution_timeout=timedelta(minutes=10))
        def ingest(recipe: str = name) -> dict:
            """Runs one DataHub recipe into the catalog; its report goes to the task log."""
            from airflow.sdk.exceptions import AirflowSkipException

            from realtime_platform.catalog.environment import RecipeNotApplicable, run_recipe

            try:
                return run_recipe(recipe)
            except RecipeNotApplicable as exc:  # e.g. Superset is not part of this deployment
                raise AirflowSkipException(str(exc)) from exc

        ingest()
