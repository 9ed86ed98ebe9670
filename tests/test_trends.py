"""A second wave with a changed questionnaire: landed as a French-Excel CSV, harmonised with
the crosswalk, trends computed, and the 2024 figures left exactly as they were."""

from __future__ import annotations

import csv
import math

import pandas as pd
import pytest

from observatoire.synthetic import synth
from tests.conftest import (
    add_made_up_wave_row,
    build,
    drop_shipped_wave,
    made_up_figures,
    project_copy,
    query,
    write_made_up_figures,
)

YEAR = 2025
# Made-up figures for a test wave (not real): sizes, values and precision differ from 2024.
TARGETS = made_up_figures("trends_2025")


def _change_codebook(seeds) -> None:
    """2025 codebook: genai_frequency renamed, a new use-case option, a new question, and
    company_plans_ai_expert dropped."""
    rows = list(csv.DictReader(open(seeds / "codebooks" / "pro_2024.csv", encoding="utf-8")))
    out = []
    for row in rows:
        row["wave_year"] = str(YEAR)
        if row["question_id"] == "company_plans_ai_expert":
            continue
        if row["question_id"] == "genai_frequency":
            row["question_id"] = row["variable"] = "genai_usage_frequency"
        row["universe"] = row["universe"].replace("genai_frequency=", "genai_usage_frequency=")
        out.append(row)
    use_case = next(r for r in out if r["question_id"] == "use_cases")
    out.append({**use_case, "option_code": "12", "option_key": "ecriture_scenario",
                "label_fr": "Aide à l'écriture", "label_en": "Writing assistance"})
    yes_no = [r for r in out if r["question_id"] == "training_wanted"]
    for r in yes_no:
        out.append({**r, "question_id": "ai_charter_known", "variable": "ai_charter_known",
                    "position": "99", "wording_fr": "Connaissez-vous la charte IA du CNC ?",
                    "wording_en": "Do you know the CNC's AI charter?"})
    with open(seeds / "codebooks" / f"pro_{YEAR}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)


def _configure(seeds) -> None:
    with open(seeds / "crosswalk.csv", "a", encoding="utf-8") as f:
        f.write(f"pro,{YEAR},genai_usage_frequency,*,genai_frequency,*,comparable,"
                "renamed in 2025\n")
        f.write(f"pro,{YEAR},use_cases,*,use_cases,*,comparable_with_caveat,"
                "option ecriture_scenario added in 2025\n")
        f.write(f"pro,{YEAR},satisfaction,*,satisfaction,*,break,"
                "question reworded in 2025\n")
    with open(seeds / "indicator_catalogue.csv", "a", encoding="utf-8") as f:
        f.write("ai_charter_known,pro,share,ai_charter_known=yes,ai_charter_known=*,,all,"
                "Connaissent la charte IA,Know the AI charter,Répondants,Respondents\n")
    add_made_up_wave_row(seeds, YEAR)
    write_made_up_figures(seeds, YEAR, TARGETS)


@pytest.fixture(scope="module")
def two_waves(parsed_project, tmp_path_factory):
    from observatoire.landing import land

    root = tmp_path_factory.mktemp("trends")
    project, warehouse = project_copy(parsed_project, root)
    seeds = project / "seeds"
    drop_shipped_wave(seeds, YEAR)  # the project ships a real 2025 wave
    build(project, warehouse)
    before = query(warehouse, "select * from marts.fct_indicator where wave_year = 2024 "
                              "order by survey, indicator_id, segment_type, segment_value")

    _change_codebook(seeds)
    _configure(seeds)
    export = root / "export"
    unmet = synth.synthesise(YEAR, "pro", seeds=seeds, seed=7, steps=300_000, out_dir=export,
                             log=lambda *_: None)
    assert unmet == []
    # as a French survey tool exports it: ';' separator, Windows-1252
    frame = pd.read_csv(export / f"pro_{YEAR}__synthetic.csv", dtype=str, keep_default_na=False)
    french = root / f"export_pro_{YEAR}.csv"
    frame.to_csv(french, sep=";", index=False, encoding="cp1252")
    result = land(french, "pro", YEAR, landing_root=seeds)
    assert result.rows_in == 500 and result.rows_loaded == 500
    build(project, warehouse)
    after = query(warehouse, "select * from marts.fct_indicator where wave_year = 2024 "
                             "order by survey, indicator_id, segment_type, segment_value")
    return {"warehouse": warehouse, "before": before, "after": after}


def _trend(warehouse, indicator, segment_type="all", segment_value="all", wave=YEAR):
    rows = query(warehouse, """
        select value, previous_wave_year, previous_value, change, z_statistic,
            is_significant_95, comparability, effective_n, unit
        from marts.fct_indicator_trend
        where wave_year = ? and indicator_id = ? and segment_type = ? and segment_value = ?""",
                 [wave, indicator, segment_type, segment_value])
    return rows[0] if rows else None


def test_2024_is_unchanged_by_the_new_wave(two_waves):
    assert two_waves["before"] and two_waves["after"] == two_waves["before"]


def test_renamed_question_continues_its_series(two_waves):
    value, prev_year, prev, change, z, significant, comparability, n_eff, _ = _trend(
        two_waves["warehouse"], "genai_regular_or_daily")
    assert prev_year == 2024 and comparability == "comparable"
    assert 0.4495 <= value <= 0.4505 and 0.3465 <= prev <= 0.3475  # both published figures
    assert change == pytest.approx(100 * (value - prev), abs=1e-9)
    prev_n = query(two_waves["warehouse"], """
        select effective_n from marts.fct_indicator where wave_year = 2024 and survey = 'pro'
          and indicator_id = 'genai_regular_or_daily' and segment_type = 'all'""")[0][0]
    pooled = (value * n_eff + prev * prev_n) / (n_eff + prev_n)
    expected_z = (value - prev) / math.sqrt(pooled * (1 - pooled) * (1 / n_eff + 1 / prev_n))
    assert z == pytest.approx(expected_z, abs=1e-9)
    assert significant == (abs(expected_z) >= 1.959963984540054)


def test_new_option_is_flagged_with_caveat(two_waves):
    assert _trend(two_waves["warehouse"], "use_case_traduction")[6] == "comparable_with_caveat"


def test_break_is_flagged_and_not_joined(two_waves):
    value, prev_year, prev, change, z, significant, comparability, *_ = _trend(
        two_waves["warehouse"], "satisfaction_very_satisfied")
    assert comparability == "break" and prev_year == 2024
    assert change is None and z is None and significant is None  # no z: no claim either way


def test_new_question_starts_a_series(two_waves):
    value, prev_year, prev, change, *_ = _trend(two_waves["warehouse"], "ai_charter_known")
    assert 0.295 <= value <= 0.305 and prev_year is None and change is None
    assert _trend(two_waves["warehouse"], "ai_charter_known")[6] == "series_start"


def test_dropped_question_ends_its_series(two_waves):
    assert _trend(two_waves["warehouse"], "company_plans_ai_expert") is None
    assert _trend(two_waves["warehouse"], "company_plans_ai_expert", wave=2024) is not None


def test_new_wave_reproduces_its_targets(two_waves):
    rows = query(two_waves["warehouse"], "select status from reports.rpt_published_reconciliation"
                                         " where wave_year = ?", [YEAR])
    assert len(rows) == len(TARGETS) and {r[0] for r in rows} == {"reproduced"}
