"""Survey statistics in the warehouse, checked against values worked out in the test:
weighted shares, Kish effective n, Wilson and t intervals, design effect, disclosure control."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest
from scipy import stats

from observatoire import spec
from observatoire.synthetic import generator
from tests.conftest import build, project_copy, query

Z = 1.959963984540054


def test_weighted_share_effective_n_and_wilson_interval(shipped_warehouse):
    rows = query(shipped_warehouse, """
        select w.weight, r.option_key = 'yes'
        from intermediate.int_respondent_weights w
        join marts.fct_response r using (survey, wave_year, respondent_key)
        where w.survey = 'public' and w.wave_year = 2024
          and r.question_id = 'knows_ai_in_film_creation' and r.is_selected""")
    weights = [w for w, _ in rows]
    p = sum(w for w, yes in rows if yes) / sum(weights)
    n_eff = sum(weights) ** 2 / sum(w * w for w in weights)
    value, base_n, weighted_base, effective_n, ci_low, ci_high, se = query(
        shipped_warehouse, """
        select value, base_n, weighted_base, effective_n, ci_low, ci_high, standard_error
        from marts.fct_indicator
        where survey = 'public' and wave_year = 2024 and segment_type = 'all'
          and indicator_id = 'knows_ai_in_film_creation'""")[0]
    # raked share: the linearised standard error (recomputed with numpy in
    # test_linearised_variance.py); Wilson (1927) on the sample size of the same variance,
    # n = p(1-p)/se²: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    n = p * (1 - p) / se**2
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    assert base_n == len(rows)
    assert weighted_base == pytest.approx(sum(weights), abs=1e-9)
    assert value == pytest.approx(p, abs=1e-12)
    assert effective_n == pytest.approx(n_eff, abs=1e-9)
    assert effective_n < base_n  # weighting costs precision
    assert (ci_low, ci_high) == pytest.approx((centre - half, centre + half), abs=1e-12)


def test_design_effect_is_kish(shipped_warehouse):
    weights = [w for (w,) in query(shipped_warehouse, "select weight from "
                                   "intermediate.int_respondent_weights where survey = 'public'")]
    n = len(weights)
    deff = n * sum(w * w for w in weights) / sum(weights) ** 2
    reported, eff_n, total = query(shipped_warehouse, """
        select design_effect, effective_n, sum_weight from reports.rpt_weighting_diagnostics
        where survey = 'public' and wave_year = 2024""")[0]
    assert reported == pytest.approx(deff, abs=1e-12)
    assert eff_n == pytest.approx(n / deff, abs=1e-9)
    assert total == pytest.approx(n, abs=1e-6)  # raking keeps the total


def test_mean_t_interval(shipped_warehouse):
    scores = [x for (x,) in query(shipped_warehouse, """
        select r.numeric_value from marts.fct_response r
        join marts.bridge_respondent_profession b using (respondent_key)
        where r.question_id = 'impact_score' and b.profession = 'producteur'
          and r.wave_year = 2024""")]
    n = len(scores)
    mean = sum(scores) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in scores) / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    value, ci_low, ci_high, se = query(shipped_warehouse, """
        select value, ci_low, ci_high, standard_error from marts.fct_indicator
        where survey = 'pro' and indicator_id = 'impact_score_mean' and wave_year = 2024
          and segment_type = 'profession' and segment_value = 'producteur'""")[0]
    assert value == pytest.approx(mean, abs=1e-12)
    assert se == pytest.approx(sd / math.sqrt(n), abs=1e-12)
    assert (ci_low, ci_high) == pytest.approx((mean - half, mean + half), abs=1e-9)


def test_suppression_and_low_base_at_the_thresholds(parsed_project, tmp_path):
    """Professions with 9, 10, 29 and 30 respondents, defaults min_publish_base = 10 and
    caution_base = 30: 9 is suppressed, 10 published with a low-base flag, 29 flagged,
    30 neither."""
    project, warehouse = project_copy(parsed_project, tmp_path)
    seeds = project / "seeds"
    for old in (seeds / "raw").glob("*.csv"):
        old.unlink()
    codebook_text = (seeds / "codebooks" / "pro_2024.csv").read_text(encoding="utf-8")
    lines = codebook_text.splitlines()
    (seeds / "codebooks" / "pro_2031.csv").write_text(
        "\n".join([lines[0]] + [line.replace("pro,2024,", "pro,2031,", 1) for line in lines[1:]])
        + "\n", encoding="utf-8")
    codebook = spec.load_codebook(seeds / "codebooks" / "pro_2031.csv")
    sizes = {"chef_operateur": 9, "producteur": 10, "realisateur": 29, "scenariste": 30}
    respondents = []
    for profession, size in sizes.items():
        for i in range(size):
            respondents.append({"profession": frozenset([profession]), "gender": "femme",
                                "sector": "both", "ai_tried": "no", "impact_score": i % 11})
    generator.write_raw_file(seeds / "raw" / "pro_2031__test.csv", codebook, respondents,
                             (date(2031, 3, 1), date(2031, 3, 31)), random.Random(1))
    build(project, warehouse)
    rows = {r[0]: r[1:] for r in query(warehouse, """
        select segment_value, base_n, value, is_suppressed, suppression_reason, is_low_base,
            ci_low
        from marts.fct_indicator
        where wave_year = 2031 and indicator_id = 'respondents' and segment_type = 'profession'
    """)}
    assert rows["chef_operateur"][:4] == (9, None, True, "base under 10 respondents")
    assert rows["chef_operateur"][4] is True
    assert rows["producteur"][:4] == (10, 10, False, None) and rows["producteur"][4] is True
    assert rows["realisateur"][3] is None and rows["realisateur"][4] is True
    assert rows["scenariste"][:4] == (30, 30, False, None) and rows["scenariste"][4] is False
    # a suppressed mean also loses its interval
    mean = query(warehouse, """
        select value, ci_low, ci_high, is_suppressed from marts.fct_indicator
        where wave_year = 2031 and indicator_id = 'impact_score_mean'
          and segment_type = 'profession' and segment_value = 'chef_operateur'""")
    assert mean == [(None, None, None, True)]
