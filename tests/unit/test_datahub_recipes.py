"""The DataHub recipes of datahub/recipes/ validate offline with DataHub's own config models, after
DataHub's env substitution with dummy values; the glossary and data product files parse with
DataHub's models; the runner picks the sink from the environment."""

from __future__ import annotations

import re

import pytest

import datahub  # noqa: E402,F401 - a required dependency: missing fails, never skips

from realtime_platform.catalog import assets, recipes, tsum  # noqa: E402

DUMMY_ENV = {
    "TRINO_URL": "http://trino.example:8443",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "dummy",
    "AWS_SECRET_ACCESS_KEY": "dummy",
    "GLUE_ENDPOINT_URL": "http://glue.example:5000",
    "DATAHUB_STATE_DIR": "/nonexistent/datahub",
    "SUPERSET_URL": "http://superset.example:8088",
    "SUPERSET_USERNAME": "admin",
    "POSTGRES_DB": "shop",
    "SUPERSET_PASSWORD": "dummy",
}
RECIPES = recipes.recipe_names()


def test_the_recipes_exist_in_run_order():
    assert RECIPES == ["glossary", "data_products", "trino_pinot", "pinot", "trino_hive", "glue",
                       "superset", "airflow_lineage"]


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_has_no_literal_endpoint_or_secret(name):
    text = recipes.recipe_path(name).read_text()
    assert not re.search(r"https?://|127\.0\.0\.1|localhost|:\d{4}\b", text), "endpoints come from env"
    # a secret may only be named as a variable: `password: ${SUPERSET_PASSWORD}`
    assert not re.search(r"(?i)(password|secret|token)\s*:\s*(?!\$\{[A-Z_]+\}\s*$)\S", text, re.M)
    assert "sink:" not in text, "the runner adds the sink"


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_validates_with_datahub_models(name):
    from datahub.ingestion.run.pipeline_config import PipelineConfig
    from datahub.ingestion.source.source_registry import source_registry
    from datahub.ingestion.transformer.transform_registry import transform_registry

    recipe = recipes.load_recipe(name, recipes.catalog_environment(DUMMY_ENV))
    config = PipelineConfig.model_validate(recipe)
    source_class = source_registry.get(config.source.type)
    source_config = source_class.get_config_class().model_validate(config.source.config)
    for transformer in config.transformers or []:
        transform_registry.get(transformer.type)  # a known transformer type
    if name.startswith("trino"):
        assert source_config.host_port == "trino.example:8443"
        assert source_config.database == name.removeprefix("trino_")
    if name == "glue":
        assert source_config.aws_region == "eu-west-1"
    if name == "superset":
        assert source_config.connect_uri == "http://superset.example:8088"
        assert source_config.password.get_secret_value() == "dummy"
    if name == "pinot":
        assert source_config.postgres_db == DUMMY_ENV["POSTGRES_DB"]
    if name != "glossary" and config.source.type != "file":  # files and the glossary keep no state
        assert source_config.stateful_ingestion.enabled, name
        assert recipe["source"]["config"]["stateful_ingestion"]["state_provider"]["type"] == "file"
    if name == "airflow_lineage":
        assert source_config.path == "/nonexistent/datahub/airflow-lineage"


def test_superset_database_alias_names_the_bundled_database():
    """The alias maps Superset's database to Trino's catalog, so the superset datasets' upstreams
    are the URNs of the trino_hive recipe."""
    import yaml

    recipe = recipes.load_recipe("superset", recipes.catalog_environment(DUMMY_ENV))
    bundle = recipes.REPO_ROOT / "superset" / "bundle" / "databases"
    databases = {yaml.safe_load(p.read_text())["database_name"]: yaml.safe_load(p.read_text())["sqlalchemy_uri"]
                 for p in bundle.glob("*.yaml")}
    for name, catalog in recipe["source"]["config"]["database_alias"].items():
        assert databases[name].rsplit("/", 1)[-1] == catalog


def test_trino_hive_maps_catalogs_to_connectors():
    from datahub.ingestion.source.sql.trino import TrinoConfig

    recipe = recipes.load_recipe("trino_hive", recipes.catalog_environment({**DUMMY_ENV, "WAREHOUSE": "aws"}))
    config = TrinoConfig.model_validate(recipe["source"]["config"])
    assert config.catalog_to_connector_details["hive"].connector_platform == "glue"
    assert config.catalog_to_connector_details["pinot"].connector_platform == "pinot"
    assert config.include_views and config.include_view_lineage


def test_local_warehouse_has_no_glue_siblings():
    from datahub.ingestion.source.sql.trino import TrinoConfig

    recipe = recipes.load_recipe("trino_hive", recipes.catalog_environment({**DUMMY_ENV, "WAREHOUSE": "local"}))
    config = TrinoConfig.model_validate(recipe["source"]["config"])
    assert "hive" not in config.catalog_to_connector_details
    assert config.catalog_to_connector_details["pinot"].connector_platform == "pinot"


def test_trino_hive_transformers_configure():
    """Transformer configs (terms on datasets and columns, the TSum properties resolver)."""
    from datahub.ingestion.api.common import PipelineContext
    from datahub.ingestion.transformer.transform_registry import transform_registry

    recipe = recipes.load_recipe("trino_hive", recipes.catalog_environment(DUMMY_ENV))
    for transformer in recipe["transformers"]:
        transform_registry.get(transformer["type"]).create(transformer["config"], PipelineContext(run_id="t"))


def test_unset_variable_fails_naming_it():
    env = {k: v for k, v in recipes.catalog_environment(DUMMY_ENV).items() if k != "TRINO_HOST_PORT"}
    env.pop("TRINO_URL")
    with pytest.raises(Exception, match="TRINO_HOST_PORT"):
        recipes.load_recipe("trino_pinot", env)


def test_environment_derives_what_recipes_and_boto3_need():
    env = recipes.catalog_environment(DUMMY_ENV)
    assert env["TRINO_HOST_PORT"] == "trino.example:8443"
    assert env["AWS_ENDPOINT_URL_GLUE"] == "http://glue.example:5000"  # glue ignores aws_endpoint_url
    assert env["DATAHUB_LITE_FILE"] == "/nonexistent/datahub/lite.db"


def test_default_sink_is_embedded_datahub_lite():
    from datahub.ingestion.sink.datahub_lite import DataHubLiteSinkConfig

    sink = recipes.load_recipe("glossary", recipes.catalog_environment(DUMMY_ENV))["sink"]
    assert sink == {"type": "datahub-lite",
                    "config": {"type": "sqlite", "config": {"file": "/nonexistent/datahub/lite.db"}}}
    DataHubLiteSinkConfig.model_validate(sink["config"])


def test_gms_url_switches_to_datahub_rest():
    from datahub.ingestion.sink.datahub_rest import DatahubRestSinkConfig

    env = recipes.catalog_environment({**DUMMY_ENV, "DATAHUB_GMS_URL": "http://gms.example:8080",
                                       "DATAHUB_GMS_TOKEN": "t0k"})
    sink = recipes.load_recipe("glue", env)["sink"]
    assert sink["type"] == "datahub-rest"
    assert DatahubRestSinkConfig.model_validate(sink["config"]).server == "http://gms.example:8080"


def test_glossary_defines_order_customer_person():
    import yaml
    from datahub.ingestion.source.metadata.business_glossary import BusinessGlossaryConfig

    glossary = BusinessGlossaryConfig.model_validate(
        yaml.safe_load((recipes.CATALOG_DIR / "glossary" / "business_glossary.yml").read_text()))
    terms = {t.name: t for node in glossary.nodes for t in node.terms}
    assert set(terms) == {"Order", "Customer", "Person"}
    assert all(len(t.description) > 40 for t in terms.values())
    assert terms["Order"].related_terms == ["Commerce.Customer"]


def test_term_urns_used_by_recipes_exist_in_glossary():
    glossary = (recipes.CATALOG_DIR / "glossary" / "business_glossary.yml").read_text()
    used = set()
    for path in list(recipes.RECIPES_DIR.glob("*.yml")) + assets.data_product_files():
        used |= set(re.findall(r"urn:li:glossaryTerm:Commerce\.(\w+)", path.read_text()))
    assert used and all(f"- name: {term}" in glossary for term in used)


def test_data_product_and_dashboard_mcps():
    mcps = assets.all_mcps()
    by_urn: dict[str, dict] = {}
    for mcp in mcps:
        by_urn.setdefault(mcp.entityUrn, {})[mcp.aspectName] = mcp.aspect
    product = by_urn["urn:li:dataProduct:orders-by-day"]
    assert product["dataProductProperties"].name == "Orders by day"
    assert "urn:li:dashboard:(superset,orders-by-day)" in [a.destinationUrn for a in product["dataProductProperties"].assets]
    assert product["domains"].domains == ["urn:li:domain:marketing"]
    assert {o.owner for o in product["ownership"].owners} == {"urn:li:corpGroup:analytics", "urn:li:corpGroup:platform"}
    dashboard = by_urn["urn:li:dashboard:(superset,orders-by-day)"]
    assert dashboard["dashboardInfo"].dashboardUrl == "http://127.0.0.1:8088/superset/dashboard/orders-by-day/"
    assert dashboard["ownership"].owners
    assert by_urn["urn:li:domain:marketing"]["domainProperties"].name == "Marketing"


def test_superset_dashboards_replace_the_described_ones():
    superset_urn = "urn:li:dashboard:(superset,7)"
    assert assets.superset_slugs() == ["orders-by-day"]
    mcps = assets.all_mcps(superset_dashboards={"orders-by-day": superset_urn})
    described = [m for m in mcps if m.entityUrn == "urn:li:dashboard:(superset,orders-by-day)"]
    assert [(m.aspectName, m.aspect.removed) for m in described] == [("status", True)]
    assert superset_urn not in {m.entityUrn for m in mcps}, "the superset source writes the dashboard"
    product = next(m.aspect for m in mcps if m.aspectName == "dataProductProperties")
    assert superset_urn in [a.destinationUrn for a in product.assets]
    assert "urn:li:dashboard:(superset,orders-by-day)" not in [a.destinationUrn for a in product.assets]


def test_assets_file_is_readable_by_the_file_source(tmp_path):
    from datahub.ingestion.api.common import PipelineContext
    from datahub.ingestion.source.file import GenericFileSource

    count = assets.write_assets_file(tmp_path / "assets.json")
    source = GenericFileSource.create({"path": str(tmp_path / "assets.json")}, PipelineContext(run_id="t"))
    assert len(list(source.get_workunits())) == count


def test_tsum_properties_only_for_summarized_view(monkeypatch):
    rows = [{"rank": 1, "pattern": '{"status": "placed"}', "saving": 10, "coverage": 56.77,
             "uncovered_share": 0.0, "total_rows": 606, "run_date": "2026-11-27"}]
    monkeypatch.setattr(tsum, "latest_patterns", lambda table: ("2026-11-27", rows))
    tsum.clear_cache()
    resolver = tsum.LatestTSumPatterns()
    props = resolver.get_properties_to_add("urn:li:dataset:(urn:li:dataPlatform:trino,hive.views.orders,PROD)")
    assert props["tsum.run_date"] == "2026-11-27"
    assert props["tsum.pattern.1"].startswith('{"status": "placed"} (saving 10')
    assert resolver.get_properties_to_add("urn:li:dataset:(urn:li:dataPlatform:trino,hive.views.person,PROD)") == {}
    tsum.clear_cache()


def test_tsum_failure_attaches_nothing(monkeypatch):
    def boom(table):
        raise RuntimeError("Table hive.summaries.orders_patterns does not exist")

    monkeypatch.setattr(tsum, "latest_patterns", boom)
    tsum.clear_cache()
    assert tsum.LatestTSumPatterns().get_properties_to_add(
        "urn:li:dataset:(urn:li:dataPlatform:trino,hive.views.orders,PROD)") == {}
    tsum.clear_cache()


def test_secrets_file_supplies_what_the_environment_lacks(tmp_path):
    """compose: airflow-init writes catalog.env; the tasks' own environment holds no secret."""
    secrets = tmp_path / "catalog.env"
    secrets.write_text('SUPERSET_PASSWORD="p@ss word"\nAWS_ACCESS_KEY_ID="from-file"\n')
    env = recipes.catalog_environment({**DUMMY_ENV, "CATALOG_SECRETS_FILE": str(secrets)})
    assert env["AWS_ACCESS_KEY_ID"] == "dummy", "an explicit environment value wins"
    without_password = {k: v for k, v in DUMMY_ENV.items() if k != "SUPERSET_PASSWORD"}
    env = recipes.catalog_environment({**without_password, "CATALOG_SECRETS_FILE": str(secrets)})
    recipe = recipes.load_recipe("superset", env)
    assert recipe["source"]["config"]["password"] == "p@ss word"


def _settings_error(**values):
    from pydantic import ValidationError

    from realtime_platform.config import PlatformSettings
    from tests.conftest import REPO

    try:
        PlatformSettings(_env_file=REPO / "versions.env", **values)
    except ValidationError as error:
        return error
    raise AssertionError("the settings were valid")


def test_recipes_go_without_settings_only_when_some_are_missing(monkeypatch, caplog):
    import realtime_platform.config

    for field in realtime_platform.config.Secrets.model_fields.values():
        monkeypatch.delenv(str(field.validation_alias), raising=False)
    missing = _settings_error()  # no .env: no secrets

    def no_settings():
        raise missing

    monkeypatch.setattr(realtime_platform.config, "settings", no_settings)
    assert recipes._settings_environment() == {}
    assert "secrets.POSTGRES_PASSWORD" in caplog.text and "secrets.SUPERSET_ADMIN_PASSWORD" in caplog.text

    wrong = _settings_error(postgres_port="not-a-port")

    def wrong_settings():
        raise wrong

    monkeypatch.setattr(realtime_platform.config, "settings", wrong_settings)
    with pytest.raises(type(wrong), match="POSTGRES_PORT"):
        recipes._settings_environment()
