"""Serving after publication: the published snapshot loaded into PostgreSQL for BI tools, and
the data catalog (dbt docs) installed beside the auditor's report.

Both read what is already published and change nothing upstream: the PostgreSQL release is
swapped in atomically after the DuckDB snapshot (only when an endpoint is configured or
running, `make serve`; DuckDB stays the embedded default), the catalog after the report.
"""

import dagster as dg

from observatoire.publish import snapshot as publisher
from observatoire.serving.catalog import install_catalog
from observatoire.serving.load import load_release
from observatoire.serving.postgres import SERVED_SCHEMA, Endpoint
from orchestration.dbt_models import dbt_project, saved_parse
from orchestration.publish import REPORT_KEY, SNAPSHOT_KEY, published_asset
from orchestration.resources import ObservatoireSettings

POSTGRES_KEY = dg.AssetKey(["published", "postgres_release"])
CATALOG_KEY = dg.AssetKey(["published", "data_catalog"])


@published_asset(POSTGRES_KEY, deps=[SNAPSHOT_KEY], kinds={"postgres"})
def postgres_release(context: dg.AssetExecutionContext,
                     settings: ObservatoireSettings) -> dg.MaterializeResult:
    """The published snapshot served by PostgreSQL (schema `published`, role `bi_reader`), swapped
    in atomically, with the dbt descriptions as comments. Skipped when no endpoint is configured
    (OBSERVATOIRE_PG_DSN) or running."""
    # The cluster beside the warehouse (data/postgres): a refresh into another folder (tests)
    # never loads into the server of data/.
    endpoint = Endpoint.from_env(default_root=settings.paths.warehouse.parent / "postgres")
    if not endpoint.is_configured():
        context.log.info("no PostgreSQL endpoint configured or running (`make serve` starts "
                         "one): BI tools read the DuckDB snapshot")
        return dg.MaterializeResult(metadata={"served": False})
    result = load_release(publisher.snapshot_path(settings.paths.published), endpoint.conninfo(),
                          manifest=dbt_project.manifest_path)
    context.log.info(f"served {len(result.tables)} tables in {SERVED_SCHEMA}")
    return dg.MaterializeResult(metadata={
        "served": True,
        "schema": SERVED_SCHEMA,
        "tables": dg.MetadataValue.json(result.tables),
        "published_at": result.published_at,
        "swap_attempts": result.swap_attempts,
        "commented_columns": result.commented_columns,
        "undocumented": dg.MetadataValue.json(result.undocumented),
    })


@published_asset(CATALOG_KEY, deps=[REPORT_KEY], kinds={"html", "dbt"})
def data_catalog(context: dg.AssetExecutionContext,
                 settings: ObservatoireSettings) -> dg.MaterializeResult:
    """Data catalog for analysts: dbt docs (models, columns, descriptions, lineage) as one offline
    page, in the auditor's report folder (`catalog/index.html`)."""
    with settings.dbt_environment():
        index = install_catalog(settings.paths.warehouse, settings.paths.report,
                                dbt_vars=settings.dbt_vars(),
                                partial_parse=saved_parse(settings))
    context.log.info(f"data catalog: {index}")
    return dg.MaterializeResult(metadata={"index": dg.MetadataValue.path(str(index)),
                                       "url": dg.MetadataValue.url(index.as_uri())})
