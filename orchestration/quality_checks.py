"""The Great Expectations suites as a blocking asset check (plain `@asset_check`, no dagster-ge).

`observatoire.quality.validation.validate_wave` runs the suites of one wave on the built
warehouse and stores the results in `quality.dq_validation_result`. The check validates the
run's waves and every other wave present in the warehouse, because the published snapshot
carries them all: a blocking failure anywhere stops the publish step downstream. A wave is
validated once per content of what its suites read (`validate_wave_once`): a wave whose rows,
files, rules and suites are unchanged keeps its stored results.
"""

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.dbt_models import model_key
from orchestration.partitions import waves_partitions
from orchestration.resources import ObservatoireSettings

# A run tagged so revalidates every wave, even those whose inputs are unchanged (set by
# `observatoire run --rebuild` and `--full-refresh`; add it to a run in the UI).
REVALIDATE_TAG = "observatoire/revalidate"
CHECKED_ASSET = model_key("fct_response")
CHECK_NAME = "great_expectations_suites"
GX_CHECK_KEY = dg.AssetCheckKey(CHECKED_ASSET, CHECK_NAME)


def waves_in_warehouse(warehouse: Path) -> list[int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute(
            "select distinct wave_year from marts.dim_wave order by 1").fetchall()]


def run_suites(settings: ObservatoireSettings, run_waves: list[int], log=None,
               revalidate: bool = False) -> dict:
    """The suites of every wave to publish, each validated once per content of its inputs
    (`validate_wave_once`; `revalidate` forces it); a summary for the check's metadata."""
    from observatoire.quality.validation import validate_wave_once  # the quality module owns them

    waves = sorted(set(run_waves) | set(waves_in_warehouse(settings.paths.warehouse)))
    summary = {"success": True, "waves": {}, "quarantined": 0, "blocking_failures": []}
    for wave in waves:
        report, reused = validate_wave_once(
            settings.paths.warehouse, wave, project_root=settings.paths.root,
            landing_root=settings.paths.landing, revalidate=revalidate,
            log=log.debug if log else (lambda *_: None))
        failed = [r for r in report.results if r.get("success") is False]
        summary["waves"][str(wave)] = {
            "success": bool(report.success),
            "validation_run": report.run_id,
            "reused": reused,
            "quarantined": int(report.quarantined),
            "expectations": len(report.results),
            "failed_expectations": len(failed),
            "blocking_failures": list(report.blocking_failures),
        }
        summary["success"] &= bool(report.success)
        summary["quarantined"] += int(report.quarantined)
        summary["blocking_failures"] += [f"{wave}: {f}" for f in report.blocking_failures]
        if log:
            log.info(f"GX wave {wave}{' (results reused)' if reused else ''}: "
                     f"success={report.success}, "
                     f"quarantined={report.quarantined}, failed={len(failed)}")
    return summary


@dg.asset_check(
    asset=CHECKED_ASSET,
    name=CHECK_NAME,
    blocking=True,
    description="Great Expectations suites (observatoire.quality.validation) on the built "
                "warehouse, for every wave it holds. Blocking: a failure stops the publish step.",
)
def great_expectations_suites(context: dg.AssetCheckExecutionContext,
                              settings: ObservatoireSettings) -> dg.AssetCheckResult:
    run_waves = [int(w) for w in _run_partition_keys(context)]
    summary = run_suites(settings, run_waves, log=context.log,
                         revalidate=context.run.tags.get(REVALIDATE_TAG) == "true")
    return dg.AssetCheckResult(
        passed=summary["success"],
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if summary["success"] else
        "blocking failures: " + "; ".join(summary["blocking_failures"])[:1000],
        metadata={
            "waves": dg.MetadataValue.json(summary["waves"]),
            "quarantined": summary["quarantined"],
            "blocking_failures": dg.MetadataValue.json(summary["blocking_failures"]),
        },
    )


def _run_partition_keys(context: dg.AssetCheckExecutionContext) -> list[str]:
    """The wave keys of the run (a single wave, or a range for `make run` and backfills)."""
    tags = context.run.tags
    if "dagster/partition" in tags:
        return [tags["dagster/partition"]]
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start and end:
        keys = waves_partitions.get_partition_keys(dynamic_partitions_store=context.instance)
        return keys[keys.index(start): keys.index(end) + 1]
    return []
