"""The hive catalog's warehouse in local mode: its S3 stand-in, its bucket, and a guard against a
silently empty warehouse.

Locally the `hive` catalog keeps both its objects and its metadata (Trino's file metastore) in one
S3 bucket served by S3Proxy from `.state/data/s3`. A restart of any process loses nothing, because
every write is a file on disk before S3 answers.

The guard: the first `up` writes a warehouse id twice, as an object in the bucket and as a file
beside the object store (`.state/data/warehouse-id`). If a later `up` finds the id file but not the
same id in the bucket, the object store was lost or replaced, and `up` stops with an error
instead of serving an empty catalog.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.local.health import TRANSIENT, HealthCheck
from realtime_platform.local.paths import StatePaths

MARKER_KEY = "_platform/warehouse.json"  # outside every schema location and the metastore folder
LOCAL_CATALOGS = REPO_ROOT / "trino" / "catalogs"
AWS_CATALOGS = REPO_ROOT / "trino" / "aws"


class WarehouseStateError(RuntimeError):
    """The warehouse's state on disk is missing or is not the one this stack created."""


def s3_client(cfg: PlatformSettings):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=cfg.object_store.url, region_name=cfg.aws_region,
        aws_access_key_id=cfg.secrets.aws_access_key_id.get_secret_value(),
        aws_secret_access_key=cfg.secrets.aws_secret_access_key.get_secret_value(),
        # S3Proxy rejects the checksum headers that botocore sends by default since 1.36.
        config=Config(s3={"addressing_style": "path"}, connect_timeout=2, read_timeout=5,
                      retries={"max_attempts": 1}, request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))


def object_store_health(cfg: PlatformSettings) -> HealthCheck:
    """Healthy when S3Proxy answers a signed ListBuckets (its port opens before its backend is up)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return HealthCheck(f"{cfg.object_store.url} S3 ListBuckets", lambda: s3_client(cfg).list_buckets() is not None,
                       transient=(*TRANSIENT, BotoCoreError, ClientError))


def id_file(paths: StatePaths) -> Path:
    return paths.data / "warehouse-id"


def ensure_warehouse(cfg: PlatformSettings, paths: StatePaths) -> str:
    """Creates the bucket and the warehouse id on the first start; afterwards checks that the
    bucket still holds the same warehouse. Returns the warehouse id."""
    from botocore.exceptions import ClientError

    s3 = s3_client(cfg)
    expected = id_file(paths).read_text().strip() if id_file(paths).exists() else None
    try:
        found = json.loads(s3.get_object(Bucket=cfg.s3_bucket, Key=MARKER_KEY)["Body"].read())["id"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("NoSuchBucket", "NoSuchKey", "404"):
            raise
        found = None
    if expected and found != expected:
        raise WarehouseStateError(
            f"the warehouse's object store lost its state: bucket {cfg.s3_bucket} under "
            f"{paths.data / 's3'} should hold warehouse {expected} but holds "
            f"{found or 'nothing'}. Restore that folder (it holds the views, reports and TSum history), "
            f"or delete {id_file(paths)} to start with an empty warehouse on purpose.")
    if found is None:
        found = uuid.uuid4().hex
        try:
            s3.create_bucket(Bucket=cfg.s3_bucket)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        marker = {"id": found, "created": datetime.now(UTC).isoformat()}
        s3.put_object(Bucket=cfg.s3_bucket, Key=MARKER_KEY, Body=json.dumps(marker).encode())
        print(f"  created warehouse {found} in bucket {cfg.s3_bucket}")
    if expected != found:
        id_file(paths).write_text(found + "\n")
    return found


def trino_catalog_dir(cfg: PlatformSettings, paths: StatePaths) -> Path:
    """The catalog folder Trino reads: the repository's trino/catalogs as they are, or (WAREHOUSE=aws)
    a copy whose hive catalog is trino/aws/hive.properties (Glue + S3)."""
    if cfg.warehouse == "local":
        return LOCAL_CATALOGS
    target = paths.conf / "trino" / "catalog"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for source in [*LOCAL_CATALOGS.glob("*.properties"), *AWS_CATALOGS.glob("*.properties")]:
        shutil.copyfile(source, target / source.name)  # an aws file replaces the local one
    return target
