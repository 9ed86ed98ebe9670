"""Tests for observatoire.survey_stats against hand-computed / published values."""

import math

import pytest

from observatoire.survey_stats import (
    design_effect,
    is_significant_95,
    kish_effective_n,
    mean_t_interval,
    share_se,
    two_proportion_z,
    wilson_interval,
)

Z = 1.959963984540054


# --- Kish design effect / effective n ---------------------------------------


def test_kish_two_weights():
    # w = [1, 3]: sum = 4, sum of squares = 1 + 9 = 10, n = 2
    # n_eff = 4^2 / 10 = 1.6 ; deff = 2 * 10 / 16 = 1.25
    # Cross-check with deff = 1 + CV^2: mean 2, population variance 1, CV^2 = 1/4.
    assert kish_effective_n([1, 3]) == pytest.approx(1.6, abs=1e-12)
    assert design_effect([1, 3]) == pytest.approx(1.25, abs=1e-12)


def test_kish_eight_weights():
    # w = four 1s and four 2s: sum = 12, sum of squares = 4*1 + 4*4 = 20, n = 8
    # n_eff = 144 / 20 = 7.2 ; deff = 8 * 20 / 144 = 10/9
    w = [1, 1, 1, 1, 2, 2, 2, 2]
    assert kish_effective_n(w) == pytest.approx(7.2, abs=1e-12)
    assert design_effect(w) == pytest.approx(10 / 9, abs=1e-12)


def test_kish_equal_weights_and_scale_invariance():
    # Equal weights lose nothing: n_eff = n, deff = 1, whatever the common value.
    assert kish_effective_n([2.5] * 40) == pytest.approx(40.0)
    assert design_effect([2.5] * 40) == pytest.approx(1.0)
    # Multiplying all weights by a constant changes neither quantity.
    assert design_effect([10, 30]) == pytest.approx(1.25)


def test_kish_rejects_bad_weights():
    with pytest.raises(ValueError):
        kish_effective_n([1, -1])
    with pytest.raises(ValueError):
        design_effect([1, float("nan")])
    with pytest.raises(ValueError):
        design_effect([])
    assert math.isnan(kish_effective_n([0, 0]))


# --- Wilson interval ---------------------------------------------------------


def test_wilson_half_of_hundred_by_hand():
    # p = 0.5, n = 100: centre = (0.5 + z^2/200) / (1 + z^2/100) = 0.5 exactly.
    # half-width = z/(1+z^2/100) * sqrt(0.25/100 + z^2/40000)
    #            = z/(1+z^2/100) * (1/20) * sqrt(1 + z^2/100)
    #            = z / (20 * sqrt(1 + z^2/100))
    # z^2 = 3.841459, 1 + z^2/100 = 1.03841459, sqrt = 1.0190263
    # half = 1.959964 / 20.380526 = 0.0961685
    low, high = wilson_interval(0.5, 100)
    assert low == pytest.approx(0.5 - 0.0961685, abs=1e-6)
    assert high == pytest.approx(0.5 + 0.0961685, abs=1e-6)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), Stat Med 17:857-872, Table II, method 3 (score, no CC)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_examples(k, n, low, high):
    got_low, got_high = wilson_interval(k / n, n)
    # published to 4 decimals
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_boundaries_closed_form():
    # p = 0: lower bound exactly 0, upper = z^2 / (n + z^2); n = 20:
    # 3.841459 / 23.841459 = 0.161125  (check: 23.841459 * 0.161125 = 3.841460)
    assert wilson_interval(0.0, 20) == (0.0, pytest.approx(0.161125, abs=1e-6))
    # p = 1 mirrors it: lower = n / (n + z^2) = 1 - 0.161125 = 0.838875, upper = 1
    assert wilson_interval(1.0, 20) == (pytest.approx(0.838875, abs=1e-6), 1.0)


def test_wilson_zero_n_and_bad_input():
    low, high = wilson_interval(0.3, 0)
    assert math.isnan(low) and math.isnan(high)
    with pytest.raises(ValueError):
        wilson_interval(1.2, 10)
    with pytest.raises(ValueError):
        wilson_interval(0.5, -3)


# --- share standard error ----------------------------------------------------


def test_share_se_by_hand():
    # sqrt(0.5 * 0.5 / 100) = sqrt(0.0025) = 0.05
    assert share_se(0.5, 100) == pytest.approx(0.05, abs=1e-12)
    # sqrt(0.2 * 0.8 / 400) = sqrt(0.0004) = 0.02
    assert share_se(0.2, 400) == pytest.approx(0.02, abs=1e-12)
    assert share_se(0.0, 50) == 0.0
    assert math.isnan(share_se(0.5, 0))


# --- t interval for a mean ---------------------------------------------------


def test_mean_t_interval_table_value():
    # mean 50, sd 8, n 16: se = 8 / 4 = 2; t(0.975, df=15) = 2.131 (printed t table)
    # half = 2.131 * 2 = 4.262 -> (45.738, 54.262); table has 3 decimals -> tol 1e-3
    low, high = mean_t_interval(50.0, 8.0, 16)
    assert low == pytest.approx(45.738, abs=1e-3)
    assert high == pytest.approx(54.262, abs=1e-3)


def test_mean_t_interval_other_levels():
    # n = 2 -> df = 1, t(0.975, 1) = 12.706; sd 1 -> half = 12.706 / sqrt(2) = 8.9845
    low, high = mean_t_interval(0.0, 1.0, 2)
    assert high == pytest.approx(8.9845, abs=1e-3)
    assert low == pytest.approx(-8.9845, abs=1e-3)
    # 99%: n = 10 -> df = 9, t(0.995, 9) = 3.250; sd 3.162278 (sqrt 10) -> half = 3.250
    low, high = mean_t_interval(10.0, math.sqrt(10), 10, conf=0.99)
    assert high - 10.0 == pytest.approx(3.250, abs=1e-3)


def test_mean_t_interval_fractional_df_and_small_n():
    # n_eff = 16.5 (df 15.5) lies between t(15) = 2.131 and t(16) = 2.120 (tables)
    half = mean_t_interval(0.0, math.sqrt(16.5), 16.5)[1]
    assert 2.119 < half < 2.132
    for n in (0, 1, 1.9):
        low, high = mean_t_interval(5.0, 1.0, n)
        assert math.isnan(low) and math.isnan(high)


# --- two-proportion z test ---------------------------------------------------


def test_two_proportion_z_significant():
    # p1 = 0.30, p2 = 0.20, n1 = n2 = 200: pooled p = 0.25
    # se = sqrt(0.25 * 0.75 * (1/200 + 1/200)) = sqrt(0.001875) = sqrt(3)/40
    # z = 0.10 * 40 / sqrt(3) = 4 / sqrt(3) = 2.309401
    z = two_proportion_z(0.30, 200, 0.20, 200)
    assert z == pytest.approx(2.309401, abs=1e-6)
    assert is_significant_95(z)
    assert two_proportion_z(0.20, 200, 0.30, 200) == pytest.approx(-2.309401, abs=1e-6)


def test_two_proportion_z_not_significant_unequal_n():
    # p1 = 0.6 (n1 = 100), p2 = 0.5 (n2 = 100): pooled 0.55
    # se = sqrt(0.55 * 0.45 * 0.02) = sqrt(0.00495) = 0.0703562 -> z = 1.421338
    z = two_proportion_z(0.6, 100, 0.5, 100)
    assert z == pytest.approx(1.421338, abs=1e-6)
    assert not is_significant_95(z)
    # unequal n: p1 = 0.5 (n1 = 100), p2 = 0.4 (n2 = 300): pooled (50 + 120) / 400 = 0.425
    # se = sqrt(0.425 * 0.575 * (1/100 + 1/300)) = sqrt(0.244375 * 0.0133333)
    #    = sqrt(0.00325833) = 0.0570818 -> z = 0.1 / 0.0570818 = 1.751872
    assert two_proportion_z(0.5, 100, 0.4, 300) == pytest.approx(1.751872, abs=1e-5)


def test_two_proportion_z_degenerate():
    assert math.isnan(two_proportion_z(0.0, 50, 0.0, 80))  # no variance at all
    assert math.isnan(two_proportion_z(0.4, 0, 0.5, 80))
    assert not is_significant_95(float("nan"))
    assert is_significant_95(-1.97) and not is_significant_95(1.95)
