"""Weight diagnostics used by the raking (`observatoire.statistics.raking`): Kish effective sample
size and design effect (numpy only).

Intervals, standard errors and trend tests are computed in SQL (`macros/intervals.sql`,
`fct_indicator`, `fct_indicator_trend`), tested against independent values in
tests/test_interval_macros.py. Invalid weights raise ValueError; all-zero weights give NaN.
"""

from __future__ import annotations

import math

import numpy as np


def _as_weights(weights) -> np.ndarray:
    # Reject bad weights early: a negative or NaN weight would silently give a
    # meaningless effective sample size.
    w = np.asarray(weights, dtype=float).ravel()
    if w.size == 0:
        raise ValueError("weights is empty")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain NaN or infinite values")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    return w


def kish_effective_n(weights) -> float:
    """Kish effective sample size: (sum w)^2 / sum(w^2).

    Equals the number of respondents when all weights are equal and shrinks as
    weights become more variable. Returns NaN if all weights are zero.
    """
    w = _as_weights(weights)
    sum_sq = float(np.sum(w * w))
    if sum_sq == 0.0:
        return math.nan
    return float(np.sum(w)) ** 2 / sum_sq


def design_effect(weights) -> float:
    """Kish design effect due to unequal weighting: n * sum(w^2) / (sum w)^2.

    Equivalent to 1 + CV^2 of the weights (CV with population variance), and
    to n / kish_effective_n(weights). Returns NaN if all weights are zero.
    """
    w = _as_weights(weights)
    total = float(np.sum(w))
    if total == 0.0:
        return math.nan
    return w.size * float(np.sum(w * w)) / total**2
