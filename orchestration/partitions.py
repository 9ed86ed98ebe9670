"""Waves as partitions: one key per wave year, discovered from the landed files.

Dynamic partitions (not a static list): landing a wave is configuration, not code, so the
landing sensor registers a new wave's key and requests its run in the same tick, without
reloading the code location. `sync_waves` does the same for the CLI and `observatoire dev`.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from observatoire.conventions import WAVE_FILE
from observatoire.spec import SEEDS, read_csv_rows

WAVE_PARTITIONS = "wave"
waves_partitions = dg.DynamicPartitionsDefinition(name=WAVE_PARTITIONS)


def wave_asset(key: dg.AssetKey, *, group: str, kinds: set[str], deps=None,
               description: str | None = None):
    """The decorator of an asset partitioned by wave, in `group`: one run for a range of waves
    (what the asset records or publishes holds every wave the run names). Without
    `description`, Dagster describes the asset by its function's docstring."""
    return dg.asset(key=key, deps=deps, group_name=group, partitions_def=waves_partitions,
                 backfill_policy=dg.BackfillPolicy.single_run(), kinds=kinds,
                 description=description)


# <instrument>_<wave>[__tag].csv (respondent files, codebooks), published_figures_<wave>.csv
LANDED_NAME = WAVE_FILE
LANDED_FOLDERS = ("raw", "codebooks", "published")


def landed_files(landing_root: Path) -> list[tuple[Path, str]]:
    """Every landed file with a wave in its name, as (path, wave key), sorted."""
    found = []
    for folder in LANDED_FOLDERS:
        for path in sorted((Path(landing_root) / folder).glob("*.csv")):
            match = LANDED_NAME.match(path.name)
            if match:
                found.append((path, match["wave"]))
    return found


def discover_waves(landing_root: Path) -> list[str]:
    """Wave keys that have at least one respondent file landed, oldest first."""
    return sorted({wave for path, wave in landed_files(landing_root) if path.parent.name == "raw"})


def instruments(seeds: Path = SEEDS) -> list[str]:
    """Instruments (surveys) known to the project: seeds/waves.csv and the landed codebooks."""
    names = {row["survey"] for row in read_csv_rows(seeds / "waves.csv")}
    for path in (seeds / "codebooks").glob("*.csv"):
        match = LANDED_NAME.match(path.name)
        if match:
            names.add(match["stem"])
    return sorted(names)


def known_waves(instance: dg.DagsterInstance) -> list[str]:
    return list(waves_partitions.get_partition_keys(dynamic_partitions_store=instance))


def sync_waves(instance: dg.DagsterInstance, landing_root: Path) -> list[str]:
    """Register the landed waves missing from the instance; return the new keys."""
    new = [w for w in discover_waves(landing_root) if not instance.has_dynamic_partition(
        WAVE_PARTITIONS, w)]
    if new:
        instance.add_dynamic_partitions(WAVE_PARTITIONS, new)
    return new
