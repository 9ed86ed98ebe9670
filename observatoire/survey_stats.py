"""Small survey-statistics helpers (numpy/scipy only).

All functions take and return plain Python floats so they can be used from
dbt Python models, reports and tests without pandas. Invalid inputs (negative
sample sizes, shares outside [0, 1]) raise ValueError; inputs that are valid
but carry no information (n_eff = 0) give NaN rather than an exception, so a
report can show an empty cell instead of crashing on one small subgroup.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from observatoire.conventions import Z_95

# Two-sided 95% normal quantile, exact to double precision (not 1.96), so the
# intervals here match R's prop.test / statsmodels to many decimals.
Z95 = Z_95  # observatoire/conventions.py


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


def _check_share(p: float) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(f"share p must be in [0, 1], got {p}")
    return p


def _check_n(n: float, name: str = "n_eff") -> float:
    n = float(n)
    if not n >= 0.0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0, got {n}")
    return n


def wilson_interval(p: float, n_eff: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Newcombe 1998, method 3).

    ``p`` is the (weighted) observed share and ``n_eff`` the (effective)
    sample size; n_eff need not be an integer, which is how weighted survey
    shares are usually reported. Unlike the Wald interval, Wilson stays inside
    [0, 1] and is not degenerate at p = 0 or 1.
    Returns (nan, nan) when n_eff == 0 (no information).
    """
    p = _check_share(p)
    n = _check_n(n_eff)
    if n == 0.0:
        return (math.nan, math.nan)
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # At the boundaries the exact bound is 0 (or 1); force it so rounding
    # noise such as 1e-17 does not leak into reports.
    if p == 0.0:
        low = 0.0
    if p == 1.0:
        high = 1.0
    return (low, high)


def share_se(p: float, n_eff: float) -> float:
    """Standard error of a share: sqrt(p * (1 - p) / n_eff).

    Returns NaN when n_eff == 0.
    """
    p = _check_share(p)
    n = _check_n(n_eff)
    if n == 0.0:
        return math.nan
    return math.sqrt(p * (1.0 - p) / n)


def mean_t_interval(
    mean: float, sd: float, n_eff: float, conf: float = 0.95
) -> tuple[float, float]:
    """Confidence interval for a mean using Student's t with n_eff - 1 df.

    mean +/- t_{(1+conf)/2, n_eff-1} * sd / sqrt(n_eff). n_eff may be a
    non-integer effective sample size (scipy accepts real df).
    Returns (nan, nan) when n_eff < 2, where the t interval is undefined.
    """
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be in (0, 1), got {conf}")
    if not sd >= 0.0:
        raise ValueError(f"sd must be >= 0, got {sd}")
    n = _check_n(n_eff)
    if n < 2.0:
        return (math.nan, math.nan)
    t = float(stats.t.ppf((1.0 + conf) / 2.0, n - 1.0))
    half = t * float(sd) / math.sqrt(n)
    return (float(mean) - half, float(mean) + half)


def two_proportion_z(p1: float, n1: float, p2: float, n2: float) -> float:
    """z statistic for H0: p1 == p2, using the pooled standard error.

    z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with p = (n1 p1 + n2 p2) /
    (n1 + n2). Pass effective sample sizes for weighted data. Returns NaN when
    a sample size is 0 or the pooled share is 0 or 1 (no variance, so the
    test is undefined; is_significant_95(nan) is False).
    """
    p1, p2 = _check_share(p1), _check_share(p2)
    n1, n2 = _check_n(n1, "n1"), _check_n(n2, "n2")
    if n1 == 0.0 or n2 == 0.0:
        return math.nan
    pooled = (n1 * p1 + n2 * p2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return math.nan
    return (p1 - p2) / se


def is_significant_95(z: float) -> bool:
    """True if |z| exceeds the two-sided 95% critical value (1.95996...).

    NaN (an undefined test) is treated as not significant.
    """
    z = float(z)
    return bool(abs(z) > Z95)  # abs(nan) > x is False
