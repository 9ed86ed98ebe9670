"""Landed files as assets: one per instrument (respondent file + codebook) and one per kind of
publication file (published figures, stated changes), partitioned by wave.

Materialising a partition checks what landed for that wave (one respondent file and one
codebook per fielded instrument, a row in seeds/waves.csv) and records it: file names,
sha256, rows, columns. The files themselves stay where they landed; dbt reads them in place.
"""

import csv
from pathlib import Path

import dagster as dg

from observatoire.spec import SEEDS, read_csv_rows
from observatoire.warehouse.reuse import file_digest
from orchestration.partitions import LANDED_NAME, instruments, wave_asset
from orchestration.resources import ObservatoireSettings

LANDING_GROUP = "landing"
PUBLISHED_FIGURES_KEY = dg.AssetKey(["landed", "published_figures"])
PUBLISHED_CHANGES_KEY = dg.AssetKey(["landed", "published_changes"])


def instrument_key(instrument: str) -> dg.AssetKey:
    return dg.AssetKey(["landed", instrument])


def _csv_shape(path: Path) -> tuple[int, int]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        return sum(1 for _ in reader), len(header)


def _files(folder: Path, stem: str, wave: str) -> list[Path]:
    return [p for p in sorted(folder.glob(f"{stem}_{wave}*.csv"))
            if (m := LANDED_NAME.match(p.name)) and m["stem"] == stem and m["wave"] == wave]


def inspect_instrument(landing_root: Path, instrument: str, wave: str, waves_csv: Path) -> dict:
    """What landed for one instrument and wave; raises ValueError when it cannot be built."""
    raw = _files(landing_root / "raw", instrument, wave)
    codebooks = _files(landing_root / "codebooks", instrument, wave)
    if not raw and not codebooks:
        return {"fielded": False, "files": [], "respondents": 0}
    if len(raw) > 1:
        raise ValueError(f"{len(raw)} respondent files for {instrument} {wave}: "
                         f"{[p.name for p in raw]} (dbt would read them all)")
    if not raw:
        raise ValueError(f"codebook {codebooks[0].name} landed without a respondent file "
                         f"{instrument}_{wave}[__tag].csv in {landing_root / 'raw'}")
    if not codebooks:
        raise ValueError(f"respondent file {raw[0].name} landed without its codebook "
                         f"codebooks/{instrument}_{wave}.csv")
    rows = read_csv_rows(waves_csv)
    if not any(r["survey"] == instrument and r["wave_year"] == wave for r in rows):
        raise ValueError(f"no row for {instrument} {wave} in {waves_csv}")
    respondents, columns = _csv_shape(raw[0])
    questions = len({r["question_id"] for r in read_csv_rows(codebooks[0])})
    return {
        "fielded": True,
        "files": [str(p) for p in raw + codebooks],
        "sha256": {p.name: file_digest(p) for p in raw + codebooks},
        "respondents": respondents,
        "columns": columns,
        "questions": questions,
    }


def _instrument_asset(instrument: str) -> dg.AssetsDefinition:
    @wave_asset(
        instrument_key(instrument),
        group=LANDING_GROUP,
        kinds={"csv"},
        description=f"Respondent file and codebook of the `{instrument}` instrument, as landed "
                    f"in `<landing_root>/raw/` and `<landing_root>/codebooks/`.",
    )
    def landed_instrument(context: dg.AssetExecutionContext,
                          settings: ObservatoireSettings) -> dg.MaterializeResult:
        per_wave = {}
        for wave in context.partition_keys:
            found = inspect_instrument(settings.paths.landing, instrument, wave,
                                       SEEDS / "waves.csv")  # a dbt seed
            if not found["fielded"]:
                context.log.warning(f"{instrument} was not fielded in {wave}: no file landed")
            per_wave[wave] = found
        return dg.MaterializeResult(metadata={
            "waves": dg.MetadataValue.json(sorted(per_wave)),
            "dagster/row_count": sum(f["respondents"] for f in per_wave.values()),
            "respondents_by_wave": dg.MetadataValue.json(
                {w: f["respondents"] for w, f in per_wave.items()}),
            "files": dg.MetadataValue.json({w: f.get("sha256", {}) for w, f in per_wave.items()}),
            "questions_by_wave": dg.MetadataValue.json(
                {w: f.get("questions", 0) for w, f in per_wave.items()}),
        })

    landed_instrument.__name__ = f"landed_{instrument}"
    return landed_instrument


def _publication_asset(kind: str, key: dg.AssetKey, what: str) -> dg.AssetsDefinition:
    """A publication file per wave, `<landing_root>/published/<kind>_<wave>.csv` (optional: a
    wave may publish nothing, or nothing of that kind)."""
    @wave_asset(
        key,
        group=LANDING_GROUP,
        kinds={"csv"},
        description=f"{what}, as data: `<landing_root>/published/{kind}_<wave>.csv`.",
    )
    def landed_publication(context: dg.AssetExecutionContext,
                           settings: ObservatoireSettings) -> dg.MaterializeResult:
        files, rows = {}, {}
        for wave in context.partition_keys:
            path = settings.paths.landing / "published" / f"{kind}_{wave}.csv"
            if not path.exists():
                # optional: what a wave does not publish is simply not reconciled (the
                # landing command says so too)
                context.log.warning(f"wave {wave} has no {kind} file {path}: nothing to "
                                    "reconcile with")
                rows[wave] = 0
                continue
            files[path.name] = file_digest(path)
            rows[wave] = _csv_shape(path)[0]
        return dg.MaterializeResult(metadata={
            "waves": dg.MetadataValue.json(sorted(rows)),
            "dagster/row_count": sum(rows.values()),
            "rows_by_wave": dg.MetadataValue.json(rows),
            "files": dg.MetadataValue.json(files),
        })

    landed_publication.__name__ = f"landed_{kind}"
    return landed_publication


landed_published_figures = _publication_asset(
    "published_figures", PUBLISHED_FIGURES_KEY,
    "The figures each wave published (the reconciliation's reference)")
landed_published_changes = _publication_asset(
    "published_changes", PUBLISHED_CHANGES_KEY,
    "The changes a wave's publication states against an earlier wave")


def landing_assets() -> list[dg.AssetsDefinition]:
    return [*(_instrument_asset(i) for i in instruments()), landed_published_figures,
            landed_published_changes]
