"""The published BI snapshot and the auditor's report, downstream of the warehouse.

The snapshot depends on every mart and report, so the blocking Great Expectations check on
`fct_response` (and any failed dbt build) stops it: the published files then stay untouched.
"""

import shutil
import uuid

import dagster as dg

from observatoire.publish import snapshot as publisher
from orchestration.dbt_models import layer_keys
from orchestration.partitions import wave_asset
from orchestration.quality_checks import GX_CHECK_KEY
from orchestration.resources import ObservatoireSettings

PUBLISH_GROUP = "publish"
SNAPSHOT_KEY = dg.AssetKey(["published", "observatoire_snapshot"])
REPORT_KEY = dg.AssetKey(["published", "auditor_report"])


def published_asset(key: dg.AssetKey, *, deps, kinds: set[str]):
    """The decorator of every asset of the publish stage: in its group, partitioned by wave,
    one run for a range of waves (what is published holds every wave), described by the
    function's docstring."""
    return wave_asset(key, group=PUBLISH_GROUP, deps=deps, kinds=kinds)


def _quarantined(context: dg.AssetExecutionContext) -> int | None:
    """Respondents quarantined by this run's GX check (its metadata), if it ran."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    for record in reversed(records):
        evaluation = record.event_log_entry.dagster_event.asset_check_evaluation_data
        if evaluation.asset_check_key == GX_CHECK_KEY and "quarantined" in evaluation.metadata:
            return evaluation.metadata["quarantined"].value
    return None


@published_asset(SNAPSHOT_KEY, deps=layer_keys(("marts", "reports")), kinds={"duckdb", "parquet"})
def observatoire_snapshot(context: dg.AssetExecutionContext,
                          settings: ObservatoireSettings) -> dg.MaterializeResult:
    """Read-only DuckDB snapshot for BI (aggregate marts, reconciliation, quality tables; never
    respondent-level) and its Parquet export, swapped in atomically."""
    result = publisher.publish(settings.paths.warehouse, settings.paths.published,
                               run_id=context.run.run_id)
    context.log.info(f"published {result.snapshot} ({len(result.tables)} tables)")
    quarantined = _quarantined(context)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(result.snapshot)),
        "parquet": dg.MetadataValue.path(str(result.parquet_dir)),
        "waves": dg.MetadataValue.json(result.waves),
        "run_waves": ", ".join(context.partition_keys),
        "tables": dg.MetadataValue.json(result.tables),
        "excluded_respondent_level": dg.MetadataValue.json(result.excluded),
        "dagster/row_count": result.tables.get("marts.fct_indicator", 0),
        "published_at": result.published_at,
        **({"quarantined": quarantined} if quarantined is not None else {}),
    })


@published_asset(REPORT_KEY, deps=[SNAPSHOT_KEY], kinds={"html"})
def auditor_report(context: dg.AssetExecutionContext,
                   settings: ObservatoireSettings) -> dg.MaterializeResult:
    """The auditor's report (observatoire.report.auditor.build_report): per-wave quality and
    reconciliation pages, offline Data Docs. Swapped in like the snapshot."""
    from observatoire.report.auditor import build_report  # the quality side owns the report

    link = settings.paths.report
    link.parent.mkdir(parents=True, exist_ok=True)
    build_dir = link.parent / f".{link.name}-{uuid.uuid4().hex[:8]}"
    try:
        index = build_report(settings.paths.warehouse, build_dir, project_root=settings.paths.root,
                             previous=link if link.is_dir() else None)
        relative = index.resolve().relative_to(build_dir.resolve())
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    publisher.swap_dir(build_dir, link)
    index = link / relative
    context.log.info(f"auditor's report: {index}")
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(index)),
        "url": dg.MetadataValue.url(index.as_uri()),
        "run_waves": ", ".join(context.partition_keys),
    })
