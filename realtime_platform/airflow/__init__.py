"""Airflow-side helpers of the platform, used by the DAGs in `dags/`.

Importing this package (or `views`, `quality`) is cheap: no Airflow, Trino or database client is
imported at module level, so DAG files stay fast to parse.
"""
