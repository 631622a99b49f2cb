"""Data products (datahub/data_products/*.yml, DataHub's data product YAML) and the domains and
dashboards they name (datahub/dashboards.yml) as metadata change proposals, written to a JSON
file that the `data_products` recipe reads with DataHub's `file` source.

Offline: `DataProduct.from_yaml(path, graph=None)` needs the domain as a full URN.

`superset_dashboards` (slug -> URN, from realtime_platform.catalog.superset while Superset runs)
replaces the dashboards described here by the ones DataHub's `superset` source catalogues.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from realtime_platform.catalog.recipes import CATALOG_DIR


def data_product_files(catalog_dir: Path = CATALOG_DIR) -> list[Path]:
    return sorted((catalog_dir / "data_products").glob("*.yml"))


def dashboards_file(catalog_dir: Path = CATALOG_DIR) -> Path:
    return catalog_dir / "dashboards.yml"


def _ownership(owners: list[dict]):
    from datahub.metadata.schema_classes import OwnerClass, OwnershipClass

    return OwnershipClass(owners=[OwnerClass(owner=o["id"], type=o["type"]) for o in owners])


def domain_mcps(domains: list[dict]) -> list:
    from datahub.emitter.mce_builder import make_domain_urn
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.metadata.schema_classes import DomainPropertiesClass

    return [
        MetadataChangeProposalWrapper(
            entityUrn=make_domain_urn(d["id"]),
            aspect=DomainPropertiesClass(name=d["name"], description=d.get("description")),
        )
        for d in domains
    ]


def dashboard_urn(platform: str, dashboard_id: str) -> str:
    from datahub.emitter.mce_builder import make_dashboard_urn

    return make_dashboard_urn(platform, dashboard_id)


def dashboard_mcps(dashboards: list[dict]) -> list:
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.metadata.schema_classes import (
        AuditStampClass,
        ChangeAuditStampsClass,
        DashboardInfoClass,
        EdgeClass,
        InstitutionalMemoryClass,
        InstitutionalMemoryMetadataClass,
        StatusClass,
    )

    mcps = []
    for d in dashboards:
        urn = dashboard_urn(d["platform"], d["id"])
        stamp = AuditStampClass(time=0, actor="urn:li:corpuser:datahub")
        info = DashboardInfoClass(
            title=d["title"],
            description=d.get("description", ""),
            dashboardUrl=d.get("url"),
            externalUrl=d.get("url"),
            lastModified=ChangeAuditStampsClass(),
            datasetEdges=[EdgeClass(destinationUrn=u) for u in d.get("datasets", [])],
            customProperties={"url": d["url"]} if d.get("url") else {},
        )
        mcps.append(MetadataChangeProposalWrapper(entityUrn=urn, aspect=info))
        mcps.append(MetadataChangeProposalWrapper(entityUrn=urn, aspect=StatusClass(removed=False)))
        if d.get("owners"):
            mcps.append(MetadataChangeProposalWrapper(entityUrn=urn, aspect=_ownership(d["owners"])))
        if d.get("url"):
            mcps.append(MetadataChangeProposalWrapper(entityUrn=urn, aspect=InstitutionalMemoryClass(
                elements=[InstitutionalMemoryMetadataClass(
                    url=d["url"], description=f"{d['title']} dashboard", createStamp=stamp)])))
    return mcps


def removed_mcps(urns: list[str]) -> list:
    """Soft-deletes (DataHub's Status removed) entities another source now describes."""
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.metadata.schema_classes import StatusClass

    return [MetadataChangeProposalWrapper(entityUrn=urn, aspect=StatusClass(removed=True)) for urn in urns]


def data_product_mcps(path: Path, renamed_assets: Mapping[str, str] | None = None) -> list:
    """MCPs of one data product file (DataHub's own model, offline: no graph); `renamed_assets`
    maps an asset URN of the file to the one to use instead."""
    from datahub.api.entities.dataproduct.dataproduct import DataProduct

    product = DataProduct.from_yaml(path, graph=None)  # type: ignore[arg-type]
    if renamed_assets and product.assets:
        product.assets = [renamed_assets.get(urn, urn) for urn in product.assets]
    return list(product.generate_mcp(upsert=False))


def superset_slugs(catalog_dir: Path = CATALOG_DIR) -> list[str]:
    """Slugs of the dashboards that DataHub's `superset` source catalogues while Superset runs."""
    return [d["superset_slug"] for d in _extra(catalog_dir).get("dashboards", []) if d.get("superset_slug")]


def _extra(catalog_dir: Path) -> dict:
    if not dashboards_file(catalog_dir).is_file():
        return {}
    return yaml.safe_load(dashboards_file(catalog_dir).read_text()) or {}


def all_mcps(catalog_dir: Path = CATALOG_DIR, superset_dashboards: Mapping[str, str] | None = None) -> list:
    superset_dashboards = superset_dashboards or {}
    extra = _extra(catalog_dir)
    described, renamed = [], {}
    for d in extra.get("dashboards", []):
        if d.get("superset_slug") in superset_dashboards:
            renamed[dashboard_urn(d["platform"], d["id"])] = superset_dashboards[d["superset_slug"]]
        else:
            described.append(d)
    mcps = domain_mcps(extra.get("domains", [])) + dashboard_mcps(described)
    mcps += removed_mcps(list(renamed))  # written by an earlier run while Superset was down
    for path in data_product_files(catalog_dir):
        mcps += data_product_mcps(path, renamed)
    return mcps


def write_assets_file(path: Path, catalog_dir: Path = CATALOG_DIR,
                      superset_dashboards: Mapping[str, str] | None = None) -> int:
    """Writes every MCP to `path` (DataHub's metadata file format); returns how many."""
    from datahub.ingestion.sink.file import write_metadata_file

    mcps = all_mcps(catalog_dir, superset_dashboards)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_metadata_file(path, mcps)
    return len(mcps)
