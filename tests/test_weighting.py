"""Tests for observatoire.statistics.raking.rake against hand-derived raking solutions."""

import numpy as np
import pandas as pd
import pytest

from observatoire.statistics.raking import RakeResult, RakingError, rake


def _sample_2x2() -> pd.DataFrame:
    # Sample counts: (a1,b1)=30, (a1,b2)=10, (a2,b1)=5, (a2,b2)=10; n = 55
    rows = [("a1", "b1")] * 30 + [("a1", "b2")] * 10 + [("a2", "b1")] * 5 + [("a2", "b2")] * 10
    return pd.DataFrame(rows, columns=["A", "B"])


MARGINS_2X2 = {"A": {"a1": 0.5, "a2": 0.5}, "B": {"b1": 0.4, "b2": 0.6}}


def _weighted_shares(df, weights, var):
    return pd.Series(weights).groupby(df[var].to_numpy()).sum() / np.sum(weights)


# --- exact solutions ---------------------------------------------------------


def test_one_variable_weights_are_target_over_sample_share():
    # 6 men, 4 women, target 50/50: weight = target share / sample share
    # men 0.5 / 0.6 = 5/6, women 0.5 / 0.4 = 5/4; sum = 6*5/6 + 4*5/4 = 10 = n
    df = pd.DataFrame({"sex": ["m"] * 6 + ["f"] * 4})
    res = rake(df, {"sex": {"m": 0.5, "f": 0.5}})
    expected = np.array([5 / 6] * 6 + [5 / 4] * 4)
    np.testing.assert_allclose(res.weights, expected, atol=1e-9)
    assert isinstance(res, RakeResult) and res.converged
    # deff = n * sum(w^2) / sum(w)^2 = 10 * (6*25/36 + 4*25/16) / 100
    #      = (4.1667 + 6.25) / 10 = 1.0416667
    assert res.design_effect == pytest.approx(1.0416667, abs=1e-6)


def test_one_variable_with_base_weights():
    # base weights: m -> [1, 1, 2] (sum 4), f -> [1, 3] (sum 4); n = 5, total 8 -> scaled
    # to sum 5, but only within-category ratios matter. Targets m 0.4, f 0.6 of n = 5
    # -> m total 2, f total 3. m: 2/4 -> [0.5, 0.5, 1.0]; f: 3/4 -> [0.75, 2.25]
    df = pd.DataFrame({"sex": ["m", "m", "m", "f", "f"]})
    res = rake(df, {"sex": {"m": 0.4, "f": 0.6}}, base_weights=[1, 1, 2, 1, 3])
    np.testing.assert_allclose(res.weights, [0.5, 0.5, 1.0, 0.75, 2.25], atol=1e-9)


def test_already_calibrated_base_weights_are_rescaled_to_n():
    # Design weights in population units (each respondent stands for 250
    # people) that already match the 50/50 target: no sweep is needed, but the
    # result must still be on the sample scale, 250 * 4 / 1000 = 1 each.
    df = pd.DataFrame({"sex": ["m", "m", "f", "f"]})
    res = rake(df, {"sex": {"m": 0.5, "f": 0.5}}, base_weights=[250] * 4)
    np.testing.assert_allclose(res.weights, [1.0] * 4, atol=1e-12)
    assert res.iterations == 0


def test_two_by_two_converges_to_closed_form():
    # For a two-way table, IPF converges to the unique table with the target
    # margins and the sample's cross-product ratio (Deming & Stephan 1940;
    # Bishop, Fienberg & Holland 1975, ch. 3).
    # Sample odds ratio: (30 * 10) / (10 * 5) = 6.
    # Targets in weighted counts (n = 55): rows 27.5 / 27.5, columns 22 / 33.
    # Candidate table [[16.5, 11], [5.5, 22]]: rows 27.5, 27.5; cols 22, 33;
    # odds ratio 16.5 * 22 / (11 * 5.5) = 363 / 60.5 = 6  -> it is the solution.
    # Per-person weight = cell target / cell count:
    #   a1b1 16.5/30 = 0.55, a1b2 11/10 = 1.1, a2b1 5.5/5 = 1.1, a2b2 22/10 = 2.2
    df = _sample_2x2()
    res = rake(df, MARGINS_2X2, tol=1e-10)
    cell_weight = {("a1", "b1"): 0.55, ("a1", "b2"): 1.1, ("a2", "b1"): 1.1, ("a2", "b2"): 2.2}
    expected = np.array([cell_weight[(a, b)] for a, b in zip(df.A, df.B, strict=True)])
    np.testing.assert_allclose(res.weights, expected, atol=1e-6)
    assert res.iterations > 1  # a genuine multi-sweep case
    assert res.max_margin_error <= 1e-10
    for var, targets in MARGINS_2X2.items():
        shares = _weighted_shares(df, res.weights, var)
        for cat, target in targets.items():
            assert shares[cat] == pytest.approx(target, abs=1e-10)
    # Summary statistics from the same hand solution:
    # sum w = 55; sum w^2 = 30*0.3025 + 10*1.21 + 5*1.21 + 10*4.84 = 75.625
    # deff = 55 * 75.625 / 55^2 = 1.375 ; n_eff = 3025 / 75.625 = 40
    assert res.weights.sum() == pytest.approx(55.0, abs=1e-9)
    assert res.design_effect == pytest.approx(1.375, abs=1e-6)
    assert res.effective_n == pytest.approx(40.0, abs=1e-5)
    assert res.min_weight == pytest.approx(0.55, abs=1e-6)
    assert res.max_weight == pytest.approx(2.2, abs=1e-6)


@pytest.mark.parametrize(
    "margins",
    [
        {"A": {"a1": 50, "a2": 50}, "B": {"b1": 40, "b2": 60}},  # percentages
        {"A": {"a1": 1000, "a2": 1000}, "B": {"b1": 800, "b2": 1200}},  # population totals
    ],
)
def test_totals_are_normalised_to_shares(margins):
    # Same population structure as MARGINS_2X2, so the same hand solution.
    df = _sample_2x2()
    res = rake(df, margins)
    assert res.weights[:30] == pytest.approx(np.full(30, 0.55), abs=1e-6)
    assert res.weights[-10:] == pytest.approx(np.full(10, 2.2), abs=1e-6)


# --- errors ------------------------------------------------------------------


def test_non_convergence_raises_clear_error():
    # After one sweep (rows then columns) the column margins are exact but the
    # rows are off: b1 total after the row step is 30*0.6875 + 5*1.8333 = 29.79,
    # so the column step moves the rows away from 27.5 again.
    with pytest.raises(RakingError, match=r"after 1 iterations.*max margin error.*tolerance"):
        rake(_sample_2x2(), MARGINS_2X2, max_iter=1)


def test_impossible_margin_names_variable_and_category():
    margins = {"A": {"a1": 0.4, "a2": 0.4, "a3": 0.2}, "B": MARGINS_2X2["B"]}
    with pytest.raises(RakingError, match=r"impossible margin.*'A'.*'a3'"):
        rake(_sample_2x2(), margins)


def test_zero_target_category_without_respondents_is_allowed():
    margins = {"A": {"a1": 0.5, "a2": 0.5, "a3": 0.0}, "B": MARGINS_2X2["B"]}
    res = rake(_sample_2x2(), margins)
    assert res.weights[0] == pytest.approx(0.55, abs=1e-6)


def test_sample_category_missing_from_margins():
    margins = {"A": {"a1": 1.0}, "B": MARGINS_2X2["B"]}
    with pytest.raises(RakingError, match=r"'A'.*a2.*absent from the margins"):
        rake(_sample_2x2(), margins)


def test_shares_not_summing_to_one():
    with pytest.raises(RakingError, match=r"'B'.*sum to 0.9"):
        rake(_sample_2x2(), {"A": MARGINS_2X2["A"], "B": {"b1": 0.4, "b2": 0.5}})


def test_other_invalid_inputs():
    df = _sample_2x2()
    with pytest.raises(RakingError, match="not a column"):
        rake(df, {"C": {"x": 1.0}})
    with pytest.raises(RakingError, match="differ between variables"):
        rake(df, {"A": {"a1": 50, "a2": 50}, "B": {"b1": 40, "b2": 70}})
    with pytest.raises(RakingError, match="missing values"):
        rake(pd.DataFrame({"A": ["a1", None]}), {"A": {"a1": 0.5, "a2": 0.5}})
    with pytest.raises(RakingError, match="base_weights"):
        rake(df, MARGINS_2X2, base_weights=[1.0] * 3)
    assert issubclass(RakingError, ValueError)


# --- trimming ----------------------------------------------------------------


def test_trimming_two_by_two_by_hand():
    # Untrimmed solution has max weight 2.2 (cell a2b2). With upper bound 2.0,
    # a2b2 is capped at 2; the margins then fix the other cells:
    #   row a2: 5*w21 + 10*2 = 27.5        -> w21 = 1.5
    #   col b1: 30*w11 + 5*1.5 = 22        -> w11 = 14.5/30 = 0.483333
    #   row a1: 30*0.483333 + 10*w12 = 27.5 -> w12 = 1.3
    #   check col b2: 10*1.3 + 10*2 = 33 = 0.6 * 55
    # All lie in [0.4, 2.0]. Other bounded solutions exist (the margins leave
    # one degree of freedom), but this is the minimum-distortion (KL) one: the
    # uncapped cells have the raking form a_i*b_j and the capped cell's
    # unconstrained value a2*b2 = 1.3 * 1.5 / 0.483333 = 4.03 >= 2 (KKT).
    df = _sample_2x2()
    res = rake(df, MARGINS_2X2, trim=(0.4, 2.0))
    cell_weight = {("a1", "b1"): 14.5 / 30, ("a1", "b2"): 1.3, ("a2", "b1"): 1.5, ("a2", "b2"): 2.0}
    expected = np.array([cell_weight[(a, b)] for a, b in zip(df.A, df.B, strict=True)])
    np.testing.assert_allclose(res.weights, expected, atol=1e-6)
    assert res.weights.sum() == pytest.approx(55.0, abs=1e-9)


def test_trimming_respects_bounds_and_keeps_total():
    # A skewed synthetic sample: the untrimmed raking needs extreme weights.
    rng = np.random.default_rng(20240601)
    n = 600
    df = pd.DataFrame(
        {
            "age": rng.choice(["18-34", "35-54", "55+"], n, p=[0.15, 0.35, 0.5]),
            "sex": rng.choice(["f", "m"], n, p=[0.65, 0.35]),
            "edu": rng.choice(["low", "mid", "high"], n, p=[0.2, 0.3, 0.5]),
        }
    )
    margins = {
        "age": {"18-34": 0.3, "35-54": 0.35, "55+": 0.35},
        "sex": {"f": 0.52, "m": 0.48},
        "edu": {"low": 0.4, "mid": 0.35, "high": 0.25},
    }
    untrimmed = rake(df, margins)
    lower, upper = 0.3, 4.0
    assert untrimmed.max_weight > upper or untrimmed.min_weight < lower  # trimming binds
    res = rake(df, margins, trim=(lower, upper))
    assert res.weights.min() >= lower - 1e-8
    assert res.weights.max() <= upper + 1e-8
    assert res.weights.sum() == pytest.approx(n, abs=1e-8)
    for var, targets in margins.items():
        shares = _weighted_shares(df, res.weights, var)
        for cat, target in targets.items():
            assert shares[cat] == pytest.approx(target, abs=1e-7)
    assert res.design_effect < untrimmed.design_effect


def test_infeasible_trim_bounds_raise():
    # One variable, 8 men / 2 women, target 50/50: each woman needs weight
    # 0.5 * 10 / 2 = 2.5, impossible with an upper bound of 2.
    df = pd.DataFrame({"sex": ["m"] * 8 + ["f"] * 2})
    with pytest.raises(RakingError, match=r"infeasible.*'sex'.*'f'"):
        rake(df, {"sex": {"m": 0.5, "f": 0.5}}, trim=(0.5, 2.0))
    with pytest.raises(RakingError, match="trim bounds must satisfy"):
        rake(df, {"sex": {"m": 0.5, "f": 0.5}}, trim=(1.5, 2.0))
