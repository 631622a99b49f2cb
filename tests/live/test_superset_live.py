"""Superset on the live stack: the dashboards of superset/bundle exist, every chart's saved data
query (GET /api/v1/chart/<id>/data) returns the rows Trino returns for the same question, and the
"Orders by day" dashboard renders in a real browser (screenshot: artifacts/superset-orders-by-day.png).

Needs the `superset` program of realtime_platform.local.services.superset in the stack, and for
the browser test:
  apt packages:   chromium fonts-liberation   (Debian's browser; fonts for legible screenshots)
  Python package: playwright (in the platform venv; it drives /usr/bin/chromium; never run
                  `playwright install`, which downloads a browser build)
Overrides: SUPERSET_URL (default http://<bind_host>:8088), SUPERSET_ADMIN_PASSWORD (default .env),
CHROMIUM (default /usr/bin/chromium).
"""

from __future__ import annotations

import math
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import yaml

from realtime_platform.config import REPO_ROOT
from realtime_platform.local.services import superset as ss
from realtime_platform.local.state_files import secret
from realtime_platform.trino_client import query
from tests.live.polling import STACK_TRANSIENT, wait

pytestmark = pytest.mark.live

APT_PACKAGES = ("chromium", "fonts-liberation")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = REPO_ROOT / "artifacts" / "superset-orders-by-day.png"
ATTEMPTS = 6  # the views follow the CDC stream: compare again when a row changed in between

# The same question as each chart, asked of Trino directly (keyed by the chart's title). Columns
# in the chart's order: group-by columns, then metrics.
TRINO_SQL = {
    "Orders per day by channel":
        "SELECT day, channel, SUM(orders) FROM hive.reports.orders_by_day GROUP BY 1, 2",
    "Revenue per day by channel":
        "SELECT day, channel, SUM(revenue) FROM hive.reports.orders_by_day GROUP BY 1, 2",
    "Orders and revenue by channel":
        "SELECT channel, SUM(orders), SUM(revenue) FROM hive.reports.orders_by_day GROUP BY 1",
    "People": "SELECT COUNT(*) FROM hive.views.person",
    "People by last change": "SELECT op, COUNT(*) FROM hive.views.person GROUP BY 1",
    "Customers with orders": "SELECT COUNT(DISTINCT customer_id) FROM hive.views.orders",
    "Orders and revenue by country":
        "SELECT country, COUNT(*), COUNT(DISTINCT customer_id), SUM(amount) FROM hive.views.orders "
        "GROUP BY 1",
}


def _bundle(kind: str) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted((ss.BUNDLE / kind).glob("*.yaml"))]


DASHBOARDS = _bundle("dashboards")
CHARTS = _bundle("charts")


def _dashboard_chart_titles(dashboard: dict) -> set[str]:
    return {item["meta"]["sliceName"] for item in dashboard["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"}


class SupersetApi:
    def __init__(self, url: str, password: str):
        self.url = url
        self.session = requests.Session()
        response = self.session.post(f"{url}/api/v1/security/login", timeout=30, json={
            "username": ss.ADMIN_USER, "password": password, "provider": "db", "refresh": False})
        assert response.ok, f"login to Superset failed: {response.status_code} {response.text[:300]}"
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def get(self, path: str, **params) -> dict:
        response = self.session.get(f"{self.url}{path}", params=params, timeout=120)
        assert response.ok, f"GET {path}: {response.status_code} {response.text[:500]}"
        return response.json()


@pytest.fixture(scope="module")
def superset(bootstrapped) -> tuple[object, str, str]:
    cfg = bootstrapped
    url = ss.superset_url(cfg).rstrip("/")
    wait(f"Superset answering at {url}/health", lambda: requests.get(f"{url}/health", timeout=5).ok, 120, 3,
         transient=(requests.RequestException,))
    password = os.environ.get("SUPERSET_ADMIN_PASSWORD") or secret(cfg, "SUPERSET_ADMIN_PASSWORD")
    return cfg, url, password


@pytest.fixture(scope="module")
def api(superset) -> SupersetApi:
    _, url, password = superset
    return SupersetApi(url, password)


def test_every_chart_of_the_bundle_has_a_trino_question():
    assert {chart["slice_name"] for chart in CHARTS} == set(TRINO_SQL)
    assert {d["slug"] for d in DASHBOARDS} == {"orders-by-day", "customers"}


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d["slug"])
def test_dashboard_exists_with_its_charts(api, dashboard):
    listed = api.get("/api/v1/dashboard/", q="(page_size:100)")["result"]
    by_slug = {row["slug"]: row for row in listed}
    assert dashboard["slug"] in by_slug, f"dashboard {dashboard['slug']} missing: {sorted(by_slug)}"
    assert by_slug[dashboard["slug"]]["dashboard_title"] == dashboard["dashboard_title"]
    charts = api.get(f"/api/v1/dashboard/{dashboard['slug']}/charts")["result"]
    assert {c["slice_name"] for c in charts} == _dashboard_chart_titles(dashboard)


def _chart_ids(api: SupersetApi) -> dict[str, int]:
    rows = api.get("/api/v1/chart/", q="(columns:!(id,slice_name),page_size:100)")["result"]
    return {row["slice_name"]: row["id"] for row in rows}


def _normalize(value):
    """One form for both sides: dates (Superset sends epoch milliseconds), floats and decimals to cents."""
    if isinstance(value, datetime):
        return value.date() if value.tzinfo is None else value.astimezone(UTC).date()
    if isinstance(value, float) and math.isfinite(value) and value > 1e11 and value == int(value):
        return datetime.fromtimestamp(value / 1000, tz=UTC).date()  # a day at 00:00 UTC
    if isinstance(value, (float, Decimal)):
        return round(float(value), 2)
    if isinstance(value, date):
        return value
    return value


def _rows(records: list[list]) -> list[tuple]:
    return sorted((tuple(_normalize(v) for v in row) for row in records), key=repr)


@pytest.mark.parametrize("title", sorted(TRINO_SQL))
def test_chart_data_matches_trino(api, superset, title):
    cfg = superset[0]
    chart_id = _chart_ids(api).get(title)
    assert chart_id, f"chart {title!r} not in Superset"
    last: dict = {}

    def equal() -> bool:
        result = api.get(f"/api/v1/chart/{chart_id}/data/", force="true")["result"][0]
        last.clear()
        if result.get("error"):  # Pinot segments may be briefly unavailable
            last["error"] = result["error"]
            return False
        last["seen"] = _rows([[row[col] for col in result["colnames"]] for row in result["data"]])
        last["expected"] = _rows(query(cfg, TRINO_SQL[title]))
        return last["seen"] == last["expected"]

    wait(f"{title}: Superset's chart data equal to Trino's", equal, ATTEMPTS * 5, 5, transient=STACK_TRANSIENT,
         explain=lambda: last.get("error") or f"Superset {last.get('seen', [])[:5]}... "
                                               f"!= Trino {last.get('expected', [])[:5]}...")
    assert last["seen"], f"{title}: no rows"


def _dashboard(title: str) -> dict:
    return next(d for d in DASHBOARDS if d["dashboard_title"] == title)


def test_orders_by_day_renders_in_a_browser(superset):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y {' '.join(APT_PACKAGES)}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright Python package is missing: pip install playwright "
                    "(it uses /usr/bin/chromium; do not run `playwright install`)")
    _, url, password = superset
    dashboard = _dashboard("Orders by day")
    titles = _dashboard_chart_titles(dashboard)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.goto(f"{url}/login/")
            page.fill('[data-test="username-input"]', ss.ADMIN_USER)
            page.fill('[data-test="password-input"]', password)
            page.click('[data-test="login-button"]')
            page.wait_for_url(lambda u: "/login" not in u, timeout=60_000)

            page.goto(f"{url}/superset/dashboard/{dashboard['slug']}/")
            holders = page.locator('[data-test="dashboard-component-chart-holder"]')
            # Each chart holder ends up with its drawing (ECharts: canvas; table: <table>) or an error.
            page.wait_for_function(
                """n => { const hs = document.querySelectorAll('[data-test="dashboard-component-chart-holder"]');
                          return hs.length === n && [...hs].every(h =>
                            h.querySelector('canvas, table, [role="alert"], [data-test="error-message"]')
                            && !h.querySelector('[data-test="loading-indicator"]')); }""",
                arg=len(titles), timeout=120_000)
            page.wait_for_timeout(1500)  # let ECharts finish its animation for the screenshot
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            shown = {holders.nth(i).inner_text().split("\n")[0].strip() for i in range(holders.count())}
            assert shown == titles, f"chart titles on the page: {shown}"
            errors = page.locator('[role="alert"], [data-test="error-message"], .ant-alert-error')
            assert errors.count() == 0, f"error panels: {[errors.nth(i).inner_text() for i in range(errors.count())]}"
            drawn = page.locator('[data-test="dashboard-component-chart-holder"] canvas, '
                                 '[data-test="dashboard-component-chart-holder"] table')
            assert drawn.count() >= len(titles)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
    print(f"screenshot: {SCREENSHOT}")

