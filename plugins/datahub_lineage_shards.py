"""Loaded by Airflow with the other plugins: DataHub's Airflow plugin then writes task lineage one
file per process (realtime_platform/catalog/lineage_shards.py says why)."""

from airflow.plugins_manager import AirflowPlugin

from realtime_platform.catalog import lineage_shards

lineage_shards.install()


class DataHubLineageShards(AirflowPlugin):
    name = "datahub_lineage_shards"
