"""The data catalog as code: DataHub recipes of datahub/recipes/, run with DataHub's Pipeline API.

- `recipes`: where the recipes are, the environment they are resolved with, the sink the runner
  adds (embedded DataHub Lite on SQLite by default, `datahub-rest` when DATAHUB_GMS_URL is set).
- `runner`: run one recipe (what each task of the `datahub_ingestion` DAG does), search the catalog.
- `assets`: data products, their domains and dashboards as metadata change proposals.
- `tsum`: the latest TSum patterns of a view as custom properties of its dataset (a transformer).

DataHub (`acryl-datahub`) is imported inside functions only: importing this package stays cheap.
"""
