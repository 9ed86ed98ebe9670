"""The 2024 wave built from the shipped (synthetic) files reproduces the published figures."""

from __future__ import annotations

import csv

import pytest

from observatoire.spec import PROJECT_ROOT
from tests.conftest import query

PUBLISHED = PROJECT_ROOT / "seeds" / "published" / "published_figures_2024.csv"


def test_every_published_figure_is_reconciled(shipped_warehouse):
    rows = query(shipped_warehouse, """
        select survey, indicator_id, segment_type, segment_value, status, reason
        from reports.rpt_published_reconciliation where wave_year = 2024""")
    with open(PUBLISHED, encoding="utf-8") as handle:
        published = list(csv.DictReader(handle))
    assert len(rows) == len(published)
    by_status = {}
    for survey, indicator, stype, svalue, status, reason in rows:
        by_status.setdefault(status, []).append((survey, indicator, stype, svalue, reason))
    assert not by_status.get("not_reproduced"), by_status.get("not_reproduced")
    # exceptions must carry their reason
    assert all(reason for *_, reason in by_status.get("exception", []))


@pytest.mark.parametrize("indicator_prefix", [
    "respondents", "base_limits_question", "base_non_use_reasons", "ai_tried", "genai_",
    "use_case_", "impact_score_mean",
])
def test_figures_that_must_have_no_exception(shipped_warehouse, indicator_prefix):
    rows = query(shipped_warehouse, """
        select indicator_id, segment_type, segment_value, status, published_value, computed_value
        from reports.rpt_published_reconciliation
        where wave_year = 2024 and survey = 'pro' and indicator_id like ? || '%'""",
                 [indicator_prefix])
    assert rows, f"no published figure for {indicator_prefix}"
    assert all(r[3] == "reproduced" for r in rows), [r for r in rows if r[3] != "reproduced"]


def test_published_counts(shipped_warehouse):
    counts = dict(query(shipped_warehouse, """
        select survey || ':' || indicator_id, value from marts.fct_indicator
        where wave_year = 2024 and segment_type = 'all'
          and indicator_id in ('respondents', 'base_limits_question', 'base_non_use_reasons')"""))
    assert counts == {"pro:respondents": 794, "public:respondents": 1619,
                      "pro:base_limits_question": 353, "pro:base_non_use_reasons": 436}


def test_professions_are_multi_select(shipped_warehouse):
    professions = dict(query(shipped_warehouse, """
        select profession, count(*) from marts.bridge_respondent_profession
        where wave_year = 2024 group by 1"""))
    assert professions == {"scenariste": 531, "producteur": 176, "realisateur": 423,
                           "chef_operateur": 55}
    assert sum(professions.values()) > 794


def test_wave_says_data_is_synthetic(shipped_warehouse):
    rows = query(shipped_warehouse, "select survey, is_synthetic, data_note, respondents_n "
                                    "from marts.dim_wave where wave_year = 2024 order by 1")
    assert [(r[0], r[1], r[3]) for r in rows] == [("pro", True, 794), ("public", True, 1619)]
    assert all("SYNTHETIC" in r[2] for r in rows)


def test_no_raw_respondent_id_outside_staging(shipped_warehouse):
    rows = query(shipped_warehouse, """
        select table_schema, table_name from information_schema.columns
        where column_name = 'respondent_id' and table_schema <> 'staging'""")
    assert rows == []
    raw_ids = {r[0] for r in query(shipped_warehouse,
                                   "select respondent_id from staging.stg_landed__respondents")}
    keys = {r[0] for r in query(shipped_warehouse,
                                "select respondent_key from marts.dim_respondent")}
    assert len(keys) == 794 + 1619 + 1132  # pro and public 2024, pro 2025
    assert not raw_ids & keys


def test_every_response_row_is_decoded(shipped_warehouse):
    invalid = query(shipped_warehouse, "select count(*) from intermediate.int_responses_decoded "
                                       "where invalid_reason is not null")
    assert invalid == [(0,)]
