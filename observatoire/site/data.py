"""What the site reads from the published snapshot (read-only connection, closed on return).

Suppressed figures are filtered out here, in SQL, so that no later step can print them: a
row with `is_suppressed` (base under `min_publish_base`) or a null value never reaches the
templates, the chart data or the CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

# `provenance` (measured, reproduces_published, synthetic_only) is being added to fct_indicator
# by the 2025-wave work. Until every snapshot has it, the site reads it when present and
# otherwise treats provenance as unknown (null). The ONLY fallback: remove it once the column
# is in the fct_indicator contract.
PROVENANCE_FALLBACK = "cast(null as varchar)"

FIGURES_SQL = """
select
    f.wave_year, f.survey, f.indicator_id, f.indicator_label_fr, f.indicator_label_en,
    f.segment_type, f.segment_value, f.segment_label_fr, f.segment_label_en, f.unit, f.value,
    f.base_n, f.ci_low, f.ci_high, f.is_low_base, f.base_label_fr, f.base_label_en,
    t.previous_wave_year, t.change, t.change_unit, t.is_significant_95, t.comparability,
    t.comparability_note, {provenance} as provenance
from marts.fct_indicator as f
left join marts.fct_indicator_trend as t
    using (wave_year, survey, indicator_id, segment_type, segment_value)
where not f.is_suppressed and f.value is not null
order by f.survey, f.indicator_id, f.segment_type, f.segment_value, f.wave_year
"""

@dataclass(frozen=True)
class Wave:
    wave_year: int
    survey: str
    is_synthetic: bool


@dataclass
class Snapshot:
    figures: list[dict]  # one dict per published (not suppressed) figure
    waves: list[Wave]


def _has_column(con, schema: str, table: str, column: str) -> bool:
    return bool(con.execute(
        "select 1 from information_schema.columns where table_schema = ? and table_name = ? "
        "and column_name = ?", [schema, table, column]).fetchall())


def provenance_column(con) -> str:
    """SQL for a figure's provenance: the column when the snapshot has it, else the fallback."""
    if _has_column(con, "marts", "fct_indicator", "provenance"):
        return "f.provenance"
    return PROVENANCE_FALLBACK


def read_snapshot(path: Path) -> Snapshot:
    """Every published figure with its trend, and the waves (with `is_synthetic`)."""
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(FIGURES_SQL.format(provenance=provenance_column(con)))
        names = [d[0] for d in cursor.description]
        figures = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        waves = [Wave(*row) for row in con.execute(
            "select wave_year, survey, is_synthetic from marts.dim_wave "
            "order by wave_year, survey").fetchall()]
    return Snapshot(figures=figures, waves=waves)
