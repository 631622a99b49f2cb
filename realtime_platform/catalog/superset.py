"""Superset, seen from the catalog: does it answer, and which DataHub URN has a dashboard.

DataHub's `superset` source names a dashboard by Superset's numeric id
(`urn:li:dashboard:(superset,<id>)`), which Superset assigns at import. The data products name
dashboards by slug (datahub/dashboards.yml); `dashboard_urns` maps one to the other.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests

TIMEOUT_S = 10


class SupersetUnavailable(RuntimeError):
    """Superset does not answer at SUPERSET_URL (or is not configured)."""


def is_running(env: Mapping[str, str]) -> bool:
    url = env.get("SUPERSET_URL")
    if not url:
        return False
    try:
        return requests.get(f"{url}/health", timeout=TIMEOUT_S).text.strip() == "OK"
    except requests.RequestException:
        return False


def _session(env: Mapping[str, str]) -> requests.Session:
    """A session holding an access token of SUPERSET_USERNAME (the same login the source does)."""
    if not is_running(env):
        raise SupersetUnavailable(f"Superset does not answer at {env.get('SUPERSET_URL')!r}")
    response = requests.post(f"{env['SUPERSET_URL']}/api/v1/security/login", timeout=TIMEOUT_S, json={
        "username": env["SUPERSET_USERNAME"], "password": env["SUPERSET_PASSWORD"],
        "provider": "db", "refresh": False})
    response.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


def dashboard_urns(env: Mapping[str, str], slugs: list[str]) -> dict[str, str]:
    """slug -> URN the `superset` source gives that dashboard; a slug Superset lacks is an error."""
    from datahub.emitter.mce_builder import make_dashboard_urn

    session = _session(env)
    urns = {}
    for slug in slugs:
        response = session.get(f"{env['SUPERSET_URL']}/api/v1/dashboard/{slug}", timeout=TIMEOUT_S)
        if response.status_code == 404:
            raise LookupError(f"Superset has no dashboard with slug {slug!r} (is superset/bundle imported?)")
        response.raise_for_status()
        urns[slug] = make_dashboard_urn("superset", str(response.json()["result"]["id"]))
    return urns
