"""The runner's own steps around DataHub's pipeline: Airflow lineage handed over from the plugin's
file without losing a record, and Superset's recipe only where Superset answers. Runs DataHub's
real file source and DataHub Lite sink into a temporary SQLite file."""

from __future__ import annotations

import socket

import pytest

import datahub  # noqa: E402,F401 - a required dependency: missing fails, never skips

from realtime_platform.catalog import runner  # noqa: E402

VIEW = "urn:li:dataset:(urn:li:dataPlatform:trino,hive.views.orders,PROD)"
PINOT = "urn:li:dataset:(urn:li:dataPlatform:trino,pinot.default.orders,PROD)"
JOB = "urn:li:dataJob:(urn:li:dataFlow:(airflow,create_views,prod),orders)"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path):
    return {"DATAHUB_STATE_DIR": str(tmp_path / "datahub"), "TRINO_URL": "http://127.0.0.1:9",
            "SUPERSET_URL": f"http://127.0.0.1:{_closed_port()}", "SUPERSET_USERNAME": "admin",
            "SUPERSET_PASSWORD": "x", "AWS_REGION": "us-east-1"}


def _emit_task_lineage(path):
    """What DataHub's Airflow plugin does with a `datahub-file` connection."""
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.emitter.synchronized_file_emitter import SynchronizedFileEmitter
    from datahub.metadata.schema_classes import DataJobInputOutputClass

    path.parent.mkdir(parents=True, exist_ok=True)
    SynchronizedFileEmitter(str(path)).emit(MetadataChangeProposalWrapper(
        entityUrn=JOB, aspect=DataJobInputOutputClass(inputDatasets=[PINOT], outputDatasets=[VIEW])))


def test_no_lineage_yet_is_not_a_failure(env):
    result = runner.run_recipe("airflow_lineage", env)
    assert result["records_written"] == 0


def test_airflow_lineage_reaches_the_catalog_and_its_file_is_consumed(env, tmp_path):
    from realtime_platform.catalog import recipes

    resolved = recipes.catalog_environment(env)
    lineage_file = tmp_path / "datahub" / "airflow-lineage.json"
    assert resolved["DATAHUB_AIRFLOW_LINEAGE_FILE"] == str(lineage_file)
    _emit_task_lineage(lineage_file)

    result = runner.run_recipe("airflow_lineage", env)

    assert result["records_written"] == 1
    io = runner.get(JOB, ["dataJobInputOutput"], env)["dataJobInputOutput"]
    assert io["inputDatasets"] == [PINOT] and io["outputDatasets"] == [VIEW]
    assert not lineage_file.exists()
    assert list((tmp_path / "datahub" / "airflow-lineage").iterdir()) == []


def test_failed_lineage_ingestion_keeps_the_records(env, tmp_path):
    lineage_file = tmp_path / "datahub" / "airflow-lineage.json"
    lineage_file.parent.mkdir(parents=True)
    lineage_file.write_text("{not json")  # e.g. a truncated write

    with pytest.raises(runner.RecipeFailed):
        runner.run_recipe("airflow_lineage", env)

    kept = list((tmp_path / "datahub" / "airflow-lineage").glob("*.json"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"


def test_superset_recipe_is_not_applicable_while_superset_is_down(env):
    with pytest.raises(runner.RecipeNotApplicable, match="Superset does not answer"):
        runner.run_recipe("superset", env)
    skipped = runner.run_all(["superset"], env)
    assert skipped[0]["recipe"] == "superset" and "skipped" in skipped[0]


def test_glue_recipe_is_not_applicable_with_the_local_warehouse(env):
    with pytest.raises(runner.RecipeNotApplicable, match="file metastore"):
        runner.run_recipe("glue", {**env, "WAREHOUSE": "local"})


def test_data_products_name_the_described_dashboard_while_superset_is_down(env):
    runner.run_recipe("data_products", env)
    assert runner.get("urn:li:dashboard:(superset,orders-by-day)", None, env) is not None


def test_search_finds_titles_and_hides_soft_deleted_entities(env, tmp_path):
    """Dashboards have a title, not a name (Lite's free text misses them); a removed one is hidden."""
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.emitter.synchronized_file_emitter import SynchronizedFileEmitter
    from datahub.metadata.schema_classes import ChangeAuditStampsClass, DashboardInfoClass, StatusClass

    emitter = SynchronizedFileEmitter(str(tmp_path / "datahub" / "airflow-lineage.json"))
    (tmp_path / "datahub").mkdir(parents=True, exist_ok=True)
    for urn, title, removed in [("urn:li:dashboard:(superset,7)", "Weekly Revenue", False),
                                ("urn:li:dashboard:(superset,old-revenue)", "Old Revenue", True)]:
        emitter.emit(MetadataChangeProposalWrapper(entityUrn=urn, aspect=DashboardInfoClass(
            title=title, description="", lastModified=ChangeAuditStampsClass())))
        emitter.emit(MetadataChangeProposalWrapper(entityUrn=urn, aspect=StatusClass(removed=removed)))
    runner.run_recipe("airflow_lineage", env)  # loads any metadata file into the catalog

    assert {urn for urn, _ in runner.search("revenue", env)} == {"urn:li:dashboard:(superset,7)"}
    assert runner.search("it's", env) == []  # a quote in the query is data, not SQL


def test_lineage_written_one_file_per_process_reaches_the_catalog_and_nothing_is_lost(env, tmp_path, monkeypatch):
    """What the plugin does once plugins/datahub_lineage_shards.py is loaded: each process writes its
    own file; the catalog run takes them all; a process that writes again starts a new file with
    its new records only."""
    import datahub.emitter.synchronized_file_emitter as synchronized
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.ingestion.source.file import read_metadata_file
    from datahub.metadata.schema_classes import DataJobInputOutputClass

    from realtime_platform.catalog import lineage_shards

    monkeypatch.setattr(synchronized, "SynchronizedFileEmitter", synchronized.SynchronizedFileEmitter)
    lineage_shards.install()
    lineage_file = tmp_path / "datahub" / "airflow-lineage.json"

    def job(task: str) -> str:
        return f"urn:li:dataJob:(urn:li:dataFlow:(airflow,create_views,prod),{task})"

    def emit(emitter, task: str) -> None:
        emitter.emit(MetadataChangeProposalWrapper(entityUrn=job(task), aspect=DataJobInputOutputClass(
            inputDatasets=[PINOT], outputDatasets=[VIEW])))

    emitters = {}
    for pid in (101, 202):  # two task processes
        monkeypatch.setattr(lineage_shards.os, "getpid", lambda pid=pid: pid)
        emitters[pid] = synchronized.SynchronizedFileEmitter(str(lineage_file))
        assert isinstance(emitters[pid], lineage_shards.ShardedFileEmitter)
        emit(emitters[pid], f"a{pid}")
        emit(emitters[pid], f"b{pid}")
    monkeypatch.setattr(lineage_shards.os, "getpid", lambda: 101)  # a later process given a used pid
    emit(synchronized.SynchronizedFileEmitter(str(lineage_file)), "d101")
    files = lineage_shards.shard_folder(lineage_file).glob("*.json")
    assert sorted(len(list(read_metadata_file(f))) for f in files) == [1, 2, 2]  # each a complete JSON array

    assert runner.run_recipe("airflow_lineage", env)["records_written"] == 5
    emit(emitters[101], "c101")  # after its file was taken: a new file, with the new record only
    assert runner.run_recipe("airflow_lineage", env)["records_written"] == 1
    for task in ("a101", "b101", "a202", "b202", "c101", "d101"):
        assert runner.get(job(task), ["dataJobInputOutput"], env)["dataJobInputOutput"]["outputDatasets"] == [VIEW]
    assert list(lineage_shards.shard_folder(lineage_file).glob("*.json")) == []


def _search_names(query: str, env) -> set[str]:
    return {urn for urn, _ in runner.search(query, env) if urn.startswith("urn:li:dataset:")}


def test_a_stream_whose_files_are_gone_is_soft_deleted_at_the_next_run(env, tmp_path, monkeypatch):
    """The pinot recipe is stateful (DataHub's stale-entity removal, file checkpoint beside the Lite
    file): what `platformctl stream remove` takes out of pinot/tables/ and debezium/ leaves search."""
    import shutil

    from realtime_platform.catalog import recipes
    from realtime_platform.config import REPO_ROOT

    repo = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "pinot" / "tables", repo / "pinot")
    shutil.copytree(REPO_ROOT / "debezium", repo / "debezium")
    load = recipes.load_recipe

    def from_copy(name, env=None, with_sink=True):
        recipe = load(name, env, with_sink)
        recipe["source"]["config"].update(pinot_tables_dir=str(repo / "pinot"), debezium_dir=str(repo / "debezium"))
        return recipe

    monkeypatch.setattr(recipes, "load_recipe", from_copy)
    env = {**env, "POSTGRES_DB": "app"}
    person = {"urn:li:dataset:(urn:li:dataPlatform:pinot,person,PROD)",
              "urn:li:dataset:(urn:li:dataPlatform:kafka,person,PROD)",
              "urn:li:dataset:(urn:li:dataPlatform:postgres,app.public.person,PROD)"}
    orders = "urn:li:dataset:(urn:li:dataPlatform:pinot,orders,PROD)"

    runner.run_recipe("pinot", env)
    assert person <= _search_names("person", env) and orders in _search_names("orders", env)
    assert recipes.checkpoint_file("pinot", recipes.catalog_environment(env)).is_file()

    shutil.rmtree(repo / "pinot" / "001-person")
    (repo / "debezium" / "person.json").unlink()
    runner.run_recipe("pinot", env)

    assert not person & _search_names("person", env)
    assert orders in _search_names("orders", env)
    status = runner.get("urn:li:dataset:(urn:li:dataPlatform:pinot,person,PROD)", ["status"], env)
    assert status["status"]["removed"] is True  # soft-deleted, as DataHub does: kept, hidden


def test_the_catalog_and_the_airflow_plugin_leave_report_versions_out_alike():
    """One pattern for both: the trino_hive recipe's table_pattern and the plugin's dataset_pattern."""
    import json

    import yaml
    from datahub.configuration.common import AllowDenyPattern

    from realtime_platform.airflow.reports import CATALOG_DENY_VERSIONS
    from realtime_platform.catalog import recipes

    hive = yaml.safe_load(recipes.recipe_path("trino_hive").read_text())["source"]["config"]
    assert hive["table_pattern"]["deny"] == [CATALOG_DENY_VERSIONS]
    plugin = json.dumps({"deny": [CATALOG_DENY_VERSIONS]})  # the local mode's and compose's (test_compose)
    pattern = AllowDenyPattern.model_validate_json(plugin)
    assert json.loads(plugin) == {"deny": [CATALOG_DENY_VERSIONS]}
    assert not pattern.allowed("trino:hive.reports.orders_by_day__20261205t163721_1")
    assert pattern.allowed("trino:hive.reports.orders_by_day") and pattern.allowed("trino:hive.views.orders")
