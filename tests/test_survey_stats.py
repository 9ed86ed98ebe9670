"""Tests for observatoire.statistics.design_effect against hand-computed / published values."""

import math

import pytest

from observatoire.statistics.design_effect import design_effect, kish_effective_n

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
