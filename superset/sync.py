"""Idempotent start-up work inside Superset, run with the Superset venv's Python once Superset and
Trino answer (realtime_platform/local/services/superset.py, `on_healthy`):

1. the admin user exists and has the password in the file $SUPERSET_ADMIN_PASSWORD_FILE;
2. the bundle zip (argv[1], made from superset/bundle/) is imported with overwrite: database,
   datasets, charts and dashboards are matched by their uuid, so a re-import updates them;
3. each imported chart's saved query context points at its dataset's id in this instance (an
   export carries the ids of the instance it came from; /api/v1/chart/<id>/data runs that context).

Usage: python superset/sync.py BUNDLE.zip   (with SUPERSET_CONFIG_PATH etc. set as for the server)
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path

import yaml

ADMIN = "admin"


def chart_uuids(bundle: Path) -> list[str]:
    with zipfile.ZipFile(bundle) as archive:
        return [yaml.safe_load(archive.read(name))["uuid"] for name in archive.namelist()
                if "/charts/" in name and name.endswith(".yaml")]


def main(bundle: Path) -> None:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from flask import g
        from superset import security_manager
        from superset.commands.dashboard.importers.dispatcher import ImportDashboardsCommand
        from superset.commands.importers.v1.utils import get_contents_from_bundle
        from superset.extensions import db
        from superset.models.slice import Slice
        from werkzeug.security import check_password_hash

        password = Path(os.environ["SUPERSET_ADMIN_PASSWORD_FILE"]).read_text().strip()
        user = security_manager.find_user(username=ADMIN)
        if user is None:
            role = security_manager.find_role(security_manager.auth_role_admin)
            user = security_manager.add_user(ADMIN, "Superset", "Admin", "admin@localhost", role,
                                             password=password)
            if not user:
                raise SystemExit("creating the Superset admin user failed")
            print("created user admin")
        elif not check_password_hash(user.password, password):
            security_manager.reset_password(user.id, password)
            print("reset the password of user admin to SUPERSET_ADMIN_PASSWORD")

        g.user = security_manager.find_user(username=ADMIN)
        with zipfile.ZipFile(bundle) as archive:
            contents = get_contents_from_bundle(archive)
        ImportDashboardsCommand(contents, overwrite=True).run()
        print(f"imported {bundle.name}: {len(contents)} files")

        fixed = 0
        for chart in db.session.query(Slice).filter(Slice.uuid.in_(chart_uuids(bundle))).all():
            context = json.loads(chart.query_context or "null")
            if not context:
                continue
            datasource = {"id": chart.datasource_id, "type": chart.datasource_type}
            uid = f"{chart.datasource_id}__{chart.datasource_type}"
            if context.get("datasource") != datasource or context.get("form_data", {}).get("datasource") != uid:
                context["datasource"] = datasource
                context.setdefault("form_data", {})["datasource"] = uid
                chart.query_context = json.dumps(context)
                fixed += 1
        db.session.commit()
        print(f"pointed {fixed} chart query contexts at their datasets")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
