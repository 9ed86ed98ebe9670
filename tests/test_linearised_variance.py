"""Linearised (calibration residual) variance of raked shares and means.

The warehouse's `standard_error` of the raked public poll is recomputed here from the landed
answers with plain numpy (its own code: dummies from the margins seed, least squares with
numpy.linalg.lstsq, no call to observatoire.statistics), and the module is checked against a
closed form (post-stratification on one variable) and against exact properties.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from observatoire.spec import PROJECT_ROOT
from observatoire.statistics.linearisation import calibration_matrix, domain_ratio_variances
from tests.conftest import query


def _frame(warehouse, sql: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def _numpy_linearised_se(weights, dummies, in_domain, y, design_weights=None) -> float:
    """Plain numpy, R survey's formula for svymean after calibrate(calfun = "raking"):
    influence values of the domain ratio, their least-squares residuals on every raking dummy
    (weighted by the weights before raking; one-hot, rank-deficient: lstsq's minimum-norm
    solution gives the same residuals), scores w e, variance n/(n-1) Σ (score - mean)²."""
    n = weights.size
    d = np.ones(n) if design_weights is None else design_weights
    total = np.sum(weights * in_domain)
    ratio = np.sum(weights * in_domain * y) / total
    influence = in_domain * (y - ratio) / total
    root = np.sqrt(d)
    beta, *_ = np.linalg.lstsq(root[:, None] * dummies, root * influence, rcond=None)
    scores = weights * (influence - dummies @ beta)
    return float(np.sqrt(n / (n - 1) * np.sum((scores - scores.mean()) ** 2)))



def _weighted_r_squared(weights, dummies, y) -> float:
    """Weighted R² of y on the raking dummies (least squares by numpy's lstsq)."""
    root = np.sqrt(weights)
    beta, *_ = np.linalg.lstsq(root[:, None] * dummies, root * y, rcond=None)
    mean = np.average(y, weights=weights)
    return 1 - np.average((y - dummies @ beta) ** 2, weights=weights) / np.average(
        (y - mean) ** 2, weights=weights)


def _kish_se(weights, y) -> float:
    """Kish's standard error of a weighted share: p (1 - p) over the effective sample size."""
    p = np.average(y, weights=weights)
    return float(np.sqrt(p * (1 - p) * np.sum(weights * weights) / weights.sum() ** 2))

@pytest.fixture(scope="module")
def public_poll(shipped_warehouse):
    """The public poll's respondents: raked weight, the one-hot raking dummies and each
    respondent's raking cells, built from the answers and the margins seed (not from
    int_poll_weights' raking_cells)."""
    with open(PROJECT_ROOT / "seeds" / "population_margins.csv", encoding="utf-8") as handle:
        variables = sorted({row["variable"] for row in csv.DictReader(handle)
                            if row["survey"] == "public"})
    questions = sorted({q for v in variables for q in v.split("*")})
    answers = _frame(shipped_warehouse, f"""
        select respondent_key, question_id, option_key
        from intermediate.int_responses_decoded
        where survey = 'public' and wave_year = 2024 and is_selected
            and question_id in ({", ".join(f"'{q}'" for q in questions)})
    """).pivot(index="respondent_key", columns="question_id", values="option_key")
    weights = _frame(shipped_warehouse, """
        select respondent_key, weight from intermediate.int_respondent_weights
        where survey = 'public' and wave_year = 2024 order by respondent_key
    """).set_index("respondent_key")["weight"]
    answers = answers.loc[weights.index]
    cells = pd.DataFrame({v: answers[v.split("*")].agg("*".join, axis=1) for v in variables})
    dummies = pd.get_dummies(cells).to_numpy(dtype=float)
    return weights, dummies, cells


def _domain(warehouse, keys, indicator, segment_type, segment_value):
    members = _frame(warehouse, f"""
        select members.respondent_key, members.is_numerator
        from intermediate.int_indicator_members as members
        inner join intermediate.int_respondent_segments as segments
            using (survey, wave_year, respondent_key)
        where members.survey = 'public' and members.wave_year = 2024
            and members.indicator_id = '{indicator}'
            and segments.segment_type = '{segment_type}'
            and segments.segment_value = '{segment_value}'
    """).set_index("respondent_key")["is_numerator"]
    in_domain = np.asarray(keys.isin(members.index), dtype=float)
    y = members.reindex(keys).fillna(False).astype(float).to_numpy()
    return in_domain, y


def _published(warehouse, indicator, segment_type, segment_value):
    return query(warehouse, """
        select value, effective_n, standard_error, ci_low, ci_high
        from marts.fct_indicator
        where survey = 'public' and wave_year = 2024 and indicator_id = ?
            and segment_type = ? and segment_value = ?
    """, [indicator, segment_type, segment_value])[0]


@pytest.mark.parametrize("indicator, segment_type, segment_value", [
    ("good_ai_knowledge", "all", "all"),
    ("used_genai", "gender", "femme"),
    ("worried_ai", "region", "bretagne"),
])
def test_standard_error_matches_plain_numpy(shipped_warehouse, public_poll, indicator,
                                            segment_type, segment_value):
    weights, dummies, _ = public_poll
    in_domain, y = _domain(shipped_warehouse, weights.index, indicator, segment_type,
                           segment_value)
    expected = _numpy_linearised_se(weights.to_numpy(), dummies, in_domain, y)
    value, _, standard_error, _, _ = _published(shipped_warehouse, indicator, segment_type,
                                                segment_value)
    assert value == pytest.approx(np.sum(weights * in_domain * y) / np.sum(weights * in_domain),
                                  abs=1e-12)
    assert standard_error == pytest.approx(expected, abs=1e-8)
    assert standard_error == pytest.approx(expected, rel=1e-9)


def test_linearised_below_kish_where_margins_predict_the_answer(public_poll):
    """The shipped poll's raked weights and raking cells, and an answer the margins largely
    predict: aged 50 or older, one answer in ten flipped at random (made up: the shipped
    answers are drawn independently of the quota variables, which explain about 2 % of
    them). Raking removes the part the margins explain, so the linearised standard error is
    well below Kish's, and the Wilson interval on it narrower."""
    weights, dummies, cells = public_poll
    w = weights.to_numpy()
    n = w.size
    older = cells["sex*age_band"].str.endswith(("age_50_64", "age_65_plus")).to_numpy()
    flip = np.random.default_rng(11).uniform(size=n) < 0.1
    y = (older ^ flip).astype(float)
    # the raking dummies explain most of the answer
    assert _weighted_r_squared(w, dummies, y) > 0.5
    value = np.average(y, weights=w)
    estimates, variances = domain_ratio_variances(w, dummies, np.zeros(n), np.arange(n), y)
    standard_error = float(np.sqrt(variances[0]))
    assert estimates[0] == pytest.approx(value, abs=1e-12)
    assert standard_error == pytest.approx(
        _numpy_linearised_se(w, dummies, np.ones(n), y), rel=1e-9)
    assert standard_error < 0.8 * _kish_se(w, y)
    effective_n = w.sum() ** 2 / np.sum(w * w)
    # the Wilson interval is on the sample size with the same variance, p (1 - p) / se²
    low, high = wilson_interval(value, value * (1 - value) / standard_error ** 2)
    assert high - low < 0.8 * np.diff(wilson_interval(value, effective_n))[0]



def test_shipped_shares_the_margins_explain_most_are_below_kish(shipped_warehouse, public_poll):
    """On the shipped poll's own answers: for each share of the whole sample, the weighted R²
    of the answer on the raking dummies (numpy, among the share's base) and Kish's standard
    error from the weights. The raking variables explain little of these synthetic answers
    (R² of 2 to 3 %), and where they explain the most (R² above the median of the shares),
    the warehouse's linearised standard error is below Kish's."""
    weights, dummies, _ = public_poll
    indicators = [row[0] for row in query(shipped_warehouse, """
        select indicator_id from marts.fct_indicator
        where survey = 'public' and wave_year = 2024 and segment_type = 'all'
            and unit = 'share' order by 1""")]
    assert len(indicators) >= 6
    found = []
    for indicator in indicators:
        in_domain, y = _domain(shipped_warehouse, weights.index, indicator, "all", "all")
        rows = in_domain == 1
        w, x, answer = weights.to_numpy()[rows], dummies[rows], y[rows]
        value, _, standard_error, _, _ = _published(shipped_warehouse, indicator, "all", "all")
        assert value == pytest.approx(np.average(answer, weights=w), abs=1e-12)
        found.append((_weighted_r_squared(w, x, answer), standard_error, _kish_se(w, answer),
                      indicator))
    median = np.median([r for r, *_ in found])
    explained = [(se, kish, name) for r, se, kish, name in found if r > median]
    assert len(explained) >= 3
    assert all(se < kish for se, kish, _ in explained), explained

def wilson_interval(p: float, n: float) -> tuple[float, float]:
    """Wilson score interval (Newcombe 1998, method 3), written here from the formula."""
    z = norm.ppf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_unweighted_wave_keeps_simple_random_sampling_formulas(shipped_warehouse):
    rows = query(shipped_warehouse, """
        select unit, value, effective_n, standard_error, base_n
        from marts.fct_indicator
        where survey = 'pro' and unit = 'share' and value is not null
    """)
    assert len(rows) > 100
    for _, value, effective_n, standard_error, base_n in rows:
        assert effective_n == base_n
        assert standard_error == np.sqrt(value * (1 - value) / effective_n)
    assert query(shipped_warehouse, """
        select count(*) from intermediate.int_indicator_variance where survey = 'pro'
    """) == [(0,)]


def _sample(seed: int = 7, n: int = 60):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["h", "f"], n)
    age = rng.choice(["young", "mid", "old"], n, p=[0.3, 0.3, 0.4])
    weights = rng.uniform(0.5, 2.0, n)
    y = (rng.uniform(size=n) < np.where(age == "old", 0.7, 0.3)).astype(float)
    return sex, age, weights, y


def test_one_margin_is_post_stratification_closed_form():
    """Raking on one variable is post-stratification: e_i = u_i minus the mean of u in i's
    stratum (weighted by the weights before raking, here 1), so the variance is
    n/(n-1) Σ (w_i e_i - mean(w e))², as survey's postStratify branch of svyrecvar."""
    _sex, age, weights, y = _sample()
    n = weights.size
    cells = [[f"age={a}"] for a in age]
    estimates, variances = domain_ratio_variances(
        weights, calibration_matrix(cells), np.zeros(n), np.arange(n), y)
    ratio = np.sum(weights * y) / np.sum(weights)
    u = (y - ratio) / np.sum(weights)
    scores = np.empty(n)
    for stratum in np.unique(age):
        rows = age == stratum
        scores[rows] = weights[rows] * (u[rows] - u[rows].mean())
    assert estimates[0] == pytest.approx(ratio, abs=1e-15)
    assert variances[0] == pytest.approx(
        n / (n - 1) * np.sum((scores - scores.mean()) ** 2), rel=1e-12)


def test_design_weights_weigh_the_regression():
    sex, age, weights, y = _sample()
    n = weights.size
    design = np.random.default_rng(3).uniform(0.5, 1.5, n)
    cells = [[f"sex={s}", f"age={a}"] for s, a in zip(sex, age, strict=True)]
    _, variances = domain_ratio_variances(weights, calibration_matrix(cells), np.zeros(n),
                                          np.arange(n), y, design_weights=design)
    dummies = pd.get_dummies(pd.DataFrame({"sex": sex, "age": age})).to_numpy(float)
    expected = _numpy_linearised_se(weights, dummies, np.ones(n), y, design)
    assert np.sqrt(variances[0]) == pytest.approx(expected, rel=1e-10)
    assert expected != pytest.approx(_numpy_linearised_se(weights, dummies, np.ones(n), y))


def test_share_of_a_raking_category_has_no_variance_and_domains_agree_with_numpy():
    sex, age, weights, y = _sample()
    n = weights.size
    cells = [[f"sex={s}", f"age={a}"] for s, a in zip(sex, age, strict=True)]
    x = calibration_matrix(cells)
    # domain 0: share of men (a raking category: fixed by raking, variance 0);
    # domain 1: y among women; domain 2: y among the old (a raking category as domain)
    women, old = np.flatnonzero(sex == "f"), np.flatnonzero(age == "old")
    domain = np.concatenate([np.zeros(n), np.ones(women.size), np.full(old.size, 2)])
    row = np.concatenate([np.arange(n), women, old])
    value = np.concatenate([(sex == "h").astype(float), y[women], y[old]])
    estimates, variances = domain_ratio_variances(weights, x, domain, row, value)
    assert variances[0] == pytest.approx(0.0, abs=1e-20)
    dummies = pd.get_dummies(pd.DataFrame({"sex": sex, "age": age})).to_numpy(float)
    for d, members in ((1, sex == "f"), (2, age == "old")):
        expected = _numpy_linearised_se(weights, dummies, members.astype(float), y)
        assert np.sqrt(variances[d]) == pytest.approx(expected, rel=1e-10)
        assert estimates[d] == pytest.approx(np.average(y[members], weights=weights[members]))


def test_invalid_inputs_raise():
    with pytest.raises(ValueError, match="positive weights"):
        domain_ratio_variances([1.0, -1.0], np.ones((2, 1)), [0], [0], [1.0])
    with pytest.raises(ValueError, match="same length"):
        domain_ratio_variances([1.0, 1.0], np.ones((2, 1)), [0, 0], [0], [1.0])
