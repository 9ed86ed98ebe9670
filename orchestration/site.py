"""The barometer's public site, built from the published snapshot (never the build warehouse).

Downstream of the snapshot: a failed build or check upstream leaves the previous site in place,
and a failed site build leaves it too (built beside, swapped in atomically).
"""

import dagster as dg

from orchestration.publish import SNAPSHOT_KEY, published_asset
from orchestration.resources import ObservatoireSettings

SITE_KEY = dg.AssetKey(["published", "barometer_site"])


@published_asset(SITE_KEY, deps=[SNAPSHOT_KEY], kinds={"html"})
def barometer_site(context: dg.AssetExecutionContext,
                   settings: ObservatoireSettings) -> dg.MaterializeResult:
    """The public barometer site (observatoire.site): key figures and one page per theme, French
    and English, charts, data tables and CSV downloads, built from the published snapshot only."""
    from observatoire.publish.snapshot import snapshot_path
    from observatoire.site import publish_site

    result = publish_site(snapshot_path(settings.paths.published), settings.paths.site,
                          seeds_dir=settings.paths.root / "seeds")
    context.log.info(f"barometer site: {result.index}")
    if result.unplaced:
        context.log.warning("indicators without a row in seeds/site_indicators.csv (shown under "
                            f"'other'): {', '.join(result.unplaced)}")
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(result.index)),
        "url": dg.MetadataValue.url(result.index.as_uri()),
        "pages": len(result.pages),
        "indicators": result.indicators,
        "csv_files": len(result.csv_files),
        "unplaced_indicators": dg.MetadataValue.json(result.unplaced),
        "configured_not_in_snapshot": dg.MetadataValue.json(result.missing),
        "run_waves": ", ".join(context.partition_keys),
    })
