"""Linearised variance of raked domain shares and means (calibration / residual variance).

A raked estimate is a calibration estimator: its sampling variance is, to first order, the
variance of the residuals of its influence values regressed on the calibration variables
(Deville & Särndal 1992; Lumley, *Complex Surveys*, ch. 7). For a domain ratio (a share or a
mean over the respondents of a domain d, i.e. an indicator's base within a segment):

    estimate  R   = sum_i w_i d_i y_i / sum_i w_i d_i
    influence u_i = d_i (y_i - R) / sum_j w_j d_j
    residual  e_i = u_i - x_i' b,   b = argmin sum_i w_i (u_i - x_i' b)^2
    variance      = n / (n - 1) * sum_i (w_i e_i)^2

over the n respondents of the raked sample (not only the domain's), where x_i holds one dummy
per category of every raking margin and w_i are the final raked weights. This is the
with-replacement single-stage design of `survey::svydesign(ids = ~1, weights = ~w)` followed by
calibration on the margins; docs/methodology.md says how it relates to `survey::rake` and
`survey::calibrate`.

Numpy only; the regression uses an orthonormal basis of the column space of sqrt(w) x (SVD),
so collinear margins (sex, and sex × age band) need no reference coding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Domains per block: the residuals of a block are an n × block matrix.
_BLOCK_CELLS = 4_000_000


def calibration_matrix(cells: Sequence[Sequence[str]]) -> np.ndarray:
    """One-hot matrix of the raking cells: one row per respondent, one column per distinct
    `variable=category` value found in ``cells`` (each respondent's cells, one per margin)."""
    labels = sorted({cell for row in cells for cell in row})
    column = {label: j for j, label in enumerate(labels)}
    x = np.zeros((len(cells), len(labels)))
    for i, row in enumerate(cells):
        x[i, [column[cell] for cell in row]] = 1.0
    return x


def _column_basis(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the columns of sqrt(w) x (rank-revealing SVD)."""
    left, singular, _ = np.linalg.svd(np.sqrt(weights)[:, None] * x, full_matrices=False)
    if singular.size == 0:
        return left[:, :0]
    keep = singular > singular[0] * max(x.shape) * np.finfo(float).eps
    return left[:, keep]


def domain_ratio_variances(
    weights, x, domain, row, value, n_domains: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and linearised variance of a weighted ratio in each domain of a raked sample.

    weights: final raked weights of the n respondents (positive).
    x: n × p calibration matrix (raking dummies, see :func:`calibration_matrix`).
    domain, row, value: one entry per (domain, respondent) membership: the domain number
        (0 .. n_domains - 1), the respondent's row in ``weights``, and its value y (1/0 for a
        share's numerator, the answer for a mean). A respondent appears at most once per domain.
    Returns (estimates, variances), one per domain; NaN for a domain without members.
    """
    w = np.asarray(weights, dtype=float).ravel()
    x = np.asarray(x, dtype=float)
    domain = np.asarray(domain, dtype=np.int64).ravel()
    row = np.asarray(row, dtype=np.int64).ravel()
    value = np.asarray(value, dtype=float).ravel()
    n = w.size
    if x.shape[0] != n or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"need {n} finite positive weights and {n} rows of x")
    if not domain.size == row.size == value.size:
        raise ValueError("domain, row and value must have the same length")
    if n < 2:
        raise ValueError("a variance needs at least two respondents")
    n_domains = int(domain.max()) + 1 if n_domains is None else int(n_domains)
    totals = np.bincount(domain, weights=w[row], minlength=n_domains)
    sums = np.bincount(domain, weights=w[row] * value, minlength=n_domains)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimates = sums / totals
    variances = np.full(n_domains, np.nan)
    root_w = np.sqrt(w)
    basis = _column_basis(w, x)
    block = max(1, _BLOCK_CELLS // n)
    order = np.argsort(domain, kind="stable")
    domain, row, value = domain[order], row[order], value[order]
    for start in range(0, n_domains, block):
        stop = min(start + block, n_domains)
        lo, hi = np.searchsorted(domain, [start, stop])
        influence = np.zeros((n, stop - start))
        d = domain[lo:hi]
        influence[row[lo:hi], d - start] = (value[lo:hi] - estimates[d]) / totals[d]
        # sqrt(w) e = the part of sqrt(w) u orthogonal to the columns of sqrt(w) x
        scaled = root_w[:, None] * influence
        scaled -= basis @ (basis.T @ scaled)
        variances[start:stop] = n / (n - 1) * np.sum((root_w[:, None] * scaled) ** 2, axis=0)
    variances[totals <= 0] = np.nan
    return estimates, variances
