"""The barometer's public site, built from the published snapshot (never the build warehouse).

Downstream of the snapshot: a failed build or check upstream leaves the previous site in place,
and a failed site build leaves it too (built beside, swapped in atomically).
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
)

from orchestration.publish import SNAPSHOT_KEY, published_asset
from orchestration.resources import ObservatoireSettings

SITE_KEY = AssetKey(["published", "barometer_site"])


@published_asset(
    SITE_KEY,
    deps=[SNAPSHOT_KEY],
    kinds={"html"},
    description="The public barometer site (observatoire.site): key figures and one page per "
                "theme, French and English, charts, data tables and CSV downloads, built "
                "from the published snapshot only.",
)
def barometer_site(context: AssetExecutionContext,
                   settings: ObservatoireSettings) -> MaterializeResult:
    from observatoire.publish.snapshot import snapshot_path
    from observatoire.site import publish_site

    result = publish_site(snapshot_path(settings.published_path), settings.site_path,
                          seeds_dir=settings.root / "seeds")
    context.log.info(f"barometer site: {result.index}")
    if result.unplaced:
        context.log.warning("indicators without a row in seeds/site_indicators.csv (shown under "
                            f"'other'): {', '.join(result.unplaced)}")
    return MaterializeResult(metadata={
        "index": MetadataValue.path(str(result.index)),
        "url": MetadataValue.url(result.index.as_uri()),
        "pages": len(result.pages),
        "indicators": result.indicators,
        "csv_files": len(result.csv_files),
        "unplaced_indicators": MetadataValue.json(result.unplaced),
        "configured_not_in_snapshot": MetadataValue.json(result.missing),
        "run_waves": ", ".join(context.partition_keys),
    })
