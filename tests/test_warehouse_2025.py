"""The shipped 2025 wave (synthetic, from the CNC's published summary): every figure with an
unambiguous base reproduced, every stated change against 2024 reproduced to its printed
precision except the documented contradictions, and 2024 still reproduced."""

from __future__ import annotations

import csv

from observatoire.spec import PROJECT_ROOT
from tests.conftest import query

PUBLISHED = PROJECT_ROOT / "seeds" / "published"
EXCEPTIONS = PROJECT_ROOT / "seeds" / "published_exceptions.csv"


def _rows(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_2025_figure_is_reproduced(shipped_warehouse):
    published = _rows(PUBLISHED / "published_figures_2025.csv")
    rows = query(shipped_warehouse, """
        select indicator_id, segment_type, segment_value, status
        from reports.rpt_published_reconciliation where wave_year = 2025 and survey = 'pro'""")
    assert len(rows) == len(published) == 22
    status = {(i, t, v): s for i, t, v, s in rows}
    unambiguous = [(r["indicator_id"], r["segment_type"], r["segment_value"]) for r in published
                   if "ambiguous base" not in r["note"]]
    assert len(unambiguous) == 18
    assert {k: status[k] for k in unambiguous} == dict.fromkeys(unambiguous, "reproduced")
    # the ambiguous ones too, under the base the methodology note states
    assert set(status.values()) == {"reproduced"}


def test_2024_is_still_reproduced(shipped_warehouse):
    rows = query(shipped_warehouse, """
        select status, count(*) from reports.rpt_published_reconciliation
        where wave_year = 2024 group by status""")
    assert dict(rows).get("not_reproduced", 0) == 0


def test_stated_changes_hold_to_their_printed_precision(shipped_warehouse):
    """2025 − 2024 computed on fct_indicator (not on the trend model), against the stated
    change: within half a unit of its last printed decimal, except listed contradictions,
    which must really fail (else the exception is stale)."""
    changes = _rows(PUBLISHED / "published_changes_2025.csv")
    documented = {(r["indicator_id"], r["segment_type"], r["segment_value"])
                  for r in _rows(EXCEPTIONS) if r["survey"] == "pro" and r["wave_year"] == "2024"}
    values = {(w, i, t, v): x for w, i, t, v, x in query(shipped_warehouse, """
        select wave_year, indicator_id, segment_type, segment_value, value
        from marts.fct_indicator where survey = 'pro' and wave_year in (2024, 2025)""")}
    held, failed = [], []
    for c in changes:
        key = (c["indicator_id"], c["segment_type"], c["segment_value"])
        change = 100 * (values[(2025, *key)] - values[(2024, *key)])
        half = 0.5 * 10 ** -int(c["printed_decimals"])
        (held if abs(change - float(c["change_points"])) <= half else failed).append(
            (key, round(change, 4)))
    assert sorted(documented) == [("ai_tried", "profession", "realisateur")]
    assert sorted(k for k, _ in failed) == sorted(documented), failed
    assert len(held) == len(changes) - 1 == 8
