"""What the site reads from the published snapshot (read-only connection, closed on return).

Suppressed figures are filtered out here, in SQL, so that no later step can print them: a
row with `is_suppressed` (base under `min_publish_base`) or a null value never reaches the
templates, the chart data or the CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

# Suppressed figures are dropped here, in the one query the site runs: no page, chart or CSV
# can show them. `provenance` (fct_indicator's contract) marks synthetic-only figures.
FIGURES_SQL = """
select
    f.wave_year, f.survey, f.indicator_id, f.indicator_label_fr, f.indicator_label_en,
    f.segment_type, f.segment_value, f.segment_label_fr, f.segment_label_en, f.unit, f.value,
    f.base_n, f.ci_low, f.ci_high, f.is_low_base, f.base_label_fr, f.base_label_en,
    t.previous_wave_year, t.change, t.change_unit, t.is_significant_95, t.comparability,
    t.comparability_note, f.provenance
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


def read_snapshot(path: Path) -> Snapshot:
    """Every published figure with its trend, and the waves (with `is_synthetic`)."""
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(FIGURES_SQL)
        names = [d[0] for d in cursor.description]
        figures = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        waves = [Wave(*row) for row in con.execute(
            "select wave_year, survey, is_synthetic from marts.dim_wave "
            "order by wave_year, survey").fetchall()]
    return Snapshot(figures=figures, waves=waves)
