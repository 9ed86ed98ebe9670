"""Linearised variance of raked domain shares and means (calibration / residual variance).

A raked estimate is a calibration estimator: its sampling variance is, to first order, the
variance of the residuals of its influence values regressed on the calibration variables
(Deville & Särndal 1992; Lumley, *Complex Surveys*, ch. 7). For a domain ratio (a share or a
mean over the respondents of a domain D, i.e. an indicator's base within a segment), with d_i
the weights before raking (design weights; 1 here), w_i the raked weights and x_i one dummy
per category of every raking margin:

    estimate  R   = sum_i w_i D_i y_i / sum_i w_i D_i
    influence u_i = D_i (y_i - R) / sum_j w_j D_j
    residual  e_i = u_i - x_i' b,   b = argmin sum_i d_i (u_i - x_i' b)^2
    variance      = n / (n - 1) * sum_i (w_i e_i - mean(w e))^2

over the n respondents of the raked sample (not only the domain's). This is exactly what R's
`survey` package computes for `svymean` after `calibrate(..., calfun = "raking")` on a
`svydesign(ids = ~1, weights = ~d)` design (svyrecvar: `qr.resid(qr(X sqrt(d)), x / (g
sqrt(d))) * g sqrt(d)`, then onestrat's centring and n / (n - 1)), and the limit of the ten
alternating post-stratification passes it applies after `rake()`; docs/methodology.md says more.

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


def _column_basis(design_weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the columns of sqrt(d) x (rank-revealing SVD)."""
    left, singular, _ = np.linalg.svd(np.sqrt(design_weights)[:, None] * x,
                                      full_matrices=False)
    if singular.size == 0:
        return left[:, :0]
    keep = singular > singular[0] * max(x.shape) * np.finfo(float).eps
    return left[:, keep]


def _positive(values, n: int, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    if values.size != n or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"need {n} finite positive {name}")
    return values


def domain_ratio_variances(
    weights, x, domain, row, value, n_domains: int | None = None, design_weights=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and linearised variance of a weighted ratio in each domain of a raked sample.

    weights: final raked weights of the n respondents (positive).
    x: n × p calibration matrix (raking dummies, see :func:`calibration_matrix`).
    domain, row, value: one entry per (domain, respondent) membership: the domain number
        (0 .. n_domains - 1), the respondent's row in ``weights``, and its value y (1/0 for a
        share's numerator, the answer for a mean). A respondent appears at most once per domain.
    design_weights: weights before raking (default 1: raking started from equal weights).
    Returns (estimates, variances), one per domain; NaN for a domain without members.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    w = _positive(weights, n, "weights (one per row of x)")
    d = np.ones(n) if design_weights is None else _positive(design_weights, n,
                                                            "design weights")
    domain = np.asarray(domain, dtype=np.int64).ravel()
    row = np.asarray(row, dtype=np.int64).ravel()
    value = np.asarray(value, dtype=float).ravel()
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
    root_d = np.sqrt(d)
    basis = _column_basis(d, x)
    block = max(1, _BLOCK_CELLS // n)
    order = np.argsort(domain, kind="stable")
    domain, row, value = domain[order], row[order], value[order]
    for start in range(0, n_domains, block):
        stop = min(start + block, n_domains)
        lo, hi = np.searchsorted(domain, [start, stop])
        influence = np.zeros((n, stop - start))
        members = domain[lo:hi]
        influence[row[lo:hi], members - start] = (value[lo:hi] - estimates[members]) \
            / totals[members]
        # sqrt(d) e = the part of sqrt(d) u orthogonal to the columns of sqrt(d) x
        scaled = root_d[:, None] * influence
        scaled -= basis @ (basis.T @ scaled)
        scores = (w / root_d)[:, None] * scaled  # w e
        scores -= scores.mean(axis=0)
        variances[start:stop] = n / (n - 1) * np.sum(scores ** 2, axis=0)
    variances[totals <= 0] = np.nan
    return estimates, variances
