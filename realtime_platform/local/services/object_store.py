"""S3Proxy in the local mode: the local stand-in for S3 (the hive catalog's file metastore lives in
it too), keeping the buckets in the state folder, one folder per bucket and one file per object.
`prepare_object_store` renders its config (mode 600: it holds the access keys); once it answers,
realtime_platform.local.warehouse creates the bucket or checks it still holds the same warehouse.
With WAREHOUSE=aws the stack runs no object store (stack.py)."""

from __future__ import annotations

from pathlib import Path

from realtime_platform.conf_templates import TEMPLATES, render
from realtime_platform.config import PlatformSettings
from realtime_platform.local import warehouse
from realtime_platform.local.install import s3proxy_jar
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services.base import Service, java17, template_values


def object_store_dir(paths: StatePaths) -> Path:
    """Where S3Proxy keeps the buckets: one folder per bucket, one file per object."""
    return paths.data / "s3"


def prepare_object_store(cfg: PlatformSettings, paths: StatePaths) -> None:
    object_store_dir(paths).mkdir(parents=True, exist_ok=True)
    conf = paths.conf / "s3proxy" / "s3proxy.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.touch(mode=0o600)
    render(TEMPLATES / "s3proxy" / "s3proxy.conf", conf,
           {**template_values(cfg, paths), "OBJECT_STORE_DIR": str(object_store_dir(paths)),
            "AWS_ACCESS_KEY_ID": cfg.secrets.aws_access_key_id.get_secret_value(),
            "AWS_SECRET_ACCESS_KEY": cfg.secrets.aws_secret_access_key.get_secret_value()})
    conf.chmod(0o600)


def object_store_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    command = [java17(cfg), "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-jar", str(s3proxy_jar(cfg)),
               "--properties", str(paths.conf / "s3proxy" / "s3proxy.conf")]
    return Service("object-store", command, warehouse.object_store_health(cfg), stage=0,
                   start_timeout_s=60, on_healthy=lambda: warehouse.ensure_warehouse(cfg, paths))
