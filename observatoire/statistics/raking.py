"""Raking (iterative proportional fitting) of survey weights to population margins.

Own implementation: the PyPI candidates (ipfn 1.4.4, weightipy 0.4.2,
samplics 0.6.1, balance 0.23.0) are unmaintained, not installable with numpy 2
on Python 3.11, or fail silently (non-convergence only printed, categories
without respondents ignored, trimming bounds not enforced).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from observatoire.statistics.design_effect import design_effect, kish_effective_n

# Target shares must sum to 1 within this; totals of different variables must
# agree within this relative difference.
_SUM_TOL = 1e-6


class RakingError(ValueError):
    """Raking cannot produce valid weights (bad margins or no convergence)."""


@dataclass(frozen=True)
class RakeResult:
    """Outcome of :func:`rake`. ``weights`` is aligned with the input rows."""

    weights: np.ndarray
    iterations: int
    converged: bool
    max_margin_error: float
    min_weight: float
    max_weight: float
    design_effect: float
    effective_n: float


@dataclass(frozen=True)
class _Margin:
    name: str
    categories: list
    codes: np.ndarray  # category index of each row
    shares: np.ndarray  # target share of each category (sums to 1)
    counts: np.ndarray  # respondents per category


def _target_shares(margins: dict[str, dict[str, float]]) -> dict[str, np.ndarray]:
    """Turn margins given as shares or as totals into shares summing to 1.

    Margins whose values are all <= 1 are shares and must sum to 1; otherwise
    they are totals (counts, percentages) and all variables must describe the
    same population total, since inconsistent margins cannot all be met.
    """
    if not margins:
        raise RakingError("margins is empty: nothing to rake to")
    raw = {}
    for var, cats in margins.items():
        values = np.array(list(cats.values()), dtype=float)
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise RakingError(f"margin for {var!r} is empty, negative or non-finite")
        if values.sum() <= 0:
            raise RakingError(f"margin for {var!r} sums to 0")
        raw[var] = values
    totals = {var: float(v.sum()) for var, v in raw.items()}
    if all(np.all(v <= 1.0) for v in raw.values()):
        for var, total in totals.items():
            if abs(total - 1.0) > _SUM_TOL:
                raise RakingError(f"target shares for {var!r} sum to {total:.8g}, not 1")
    elif max(totals.values()) - min(totals.values()) > _SUM_TOL * max(totals.values()):
        raise RakingError(f"margin totals differ between variables: {totals}")
    return {var: v / totals[var] for var, v in raw.items()}


def _encode(df: pd.DataFrame, margins: dict, shares: dict) -> list[_Margin]:
    """Map each row to its category index per variable, checking coverage."""
    out = []
    for var, cats in margins.items():
        if var not in df.columns:
            raise RakingError(f"margin variable {var!r} is not a column of df")
        col = df[var]
        if col.isna().any():
            raise RakingError(
                f"variable {var!r} has {int(col.isna().sum())} missing values; "
                "impute or drop them before raking"
            )
        codes = col.map({cat: i for i, cat in enumerate(cats)})
        unknown = col[codes.isna()].unique().tolist()
        if unknown:
            raise RakingError(
                f"variable {var!r}: sample categories {unknown[:10]} are absent from the margins"
            )
        codes = codes.to_numpy(dtype=np.int64)
        counts = np.bincount(codes, minlength=len(cats))
        # No reweighting can give weight to a category nobody answered
        # ("impossible margin"); with a zero target it is harmless.
        for cat, count, share in zip(cats, counts, shares[var], strict=True):
            if count == 0 and share > 0:
                raise RakingError(
                    f"impossible margin: variable {var!r}, category {cat!r} has "
                    f"target share {share:.4g} but no respondents in the sample"
                )
        out.append(_Margin(var, list(cats), codes, shares[var], counts))
    return out


def _check_trim_feasible(margins: list[_Margin], n: int, bounds: tuple[float, float]) -> None:
    """Fail fast: k respondents can only total between k*lower and k*upper."""
    lower, upper = bounds
    for m in margins:
        for cat, k, share in zip(m.categories, m.counts, m.shares, strict=True):
            target = share * n
            if k > 0 and not k * lower - 1e-9 <= target <= k * upper + 1e-9:
                raise RakingError(
                    f"trim bounds [{lower:g}, {upper:g}] are infeasible: variable "
                    f"{m.name!r}, category {cat!r} needs total weight {target:.4g} "
                    f"from {k} respondents"
                )


def _margin_error(w: np.ndarray, margins: list[_Margin]) -> float:
    total = w.sum()
    worst = 0.0
    for m in margins:
        achieved = np.bincount(m.codes, weights=w, minlength=m.shares.size) / total
        worst = max(worst, float(np.max(np.abs(achieved - m.shares))))
    return worst


def _bounded_factor(w: np.ndarray, target: float, lower: float, upper: float) -> float:
    """Factor f with sum(clip(f * w, lower, upper)) == target.

    The left side is continuous and non-decreasing in f, from len(w)*lower at
    f = lower/max(w) to len(w)*upper at f = upper/min(w); the caller checks the
    target lies in between, so Brent's method finds the root.
    """
    # Zero weights (lower == 0 and a zero-target category of another
    # variable) stay at 0 and must not constrain f.
    positive = w[w > 0]
    f_lo, f_hi = lower / positive.max(), upper / positive.min()
    if f_hi <= f_lo:  # all weights equal and bounds coincide
        return f_lo

    def gap(f: float) -> float:
        return float(np.clip(f * w, lower, upper).sum()) - target

    return float(optimize.brentq(gap, f_lo, f_hi, xtol=1e-15, rtol=1e-15))


def _sweep(w: np.ndarray, margins: list[_Margin], n: int, bounds) -> np.ndarray:
    """One raking pass: scale each variable's categories to their targets.

    With bounds, each category step scales by a common factor and clips, the
    factor chosen so the category still hits its target. Naive "rake, clip,
    re-rake" can cycle forever because re-raking pushes clipped weights back
    out; doing both in one step keeps every step within bounds and on target.
    """
    w = w.copy()
    for m in margins:
        current = np.bincount(m.codes, weights=w, minlength=m.shares.size)
        for cat in range(m.shares.size):
            if current[cat] == 0:
                continue  # zero-target category, already at weight 0
            target, rows = m.shares[cat] * n, m.codes == cat
            if bounds is None:
                w[rows] *= target / current[cat]
            else:
                factor = _bounded_factor(w[rows], target, *bounds)
                w[rows] = np.clip(w[rows] * factor, *bounds)
    return w


def _check_settings(n: int, tol: float, max_iter: int,
                    trim: tuple[float, float] | None) -> tuple[float, float] | None:
    """Raise RakingError on an empty sample or invalid settings; the trim bounds as floats."""
    if n == 0:
        raise RakingError("cannot rake an empty sample")
    if not tol > 0 or int(max_iter) < 1:
        raise RakingError(f"need tol > 0 and max_iter >= 1, got {tol}, {max_iter}")
    bounds = None if trim is None else (float(trim[0]), float(trim[1]))
    if bounds is not None and not 0.0 <= bounds[0] <= 1.0 <= bounds[1]:
        raise RakingError(f"trim bounds must satisfy 0 <= lower <= 1 <= upper, got {trim}")
    return bounds


def _start_weights(base_weights, n: int) -> np.ndarray:
    """Design weights (1 by default) scaled to mean 1, so trim bounds are absolute."""
    w = np.ones(n) if base_weights is None else np.asarray(base_weights, dtype=float).ravel()
    if w.size != n or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise RakingError(f"base_weights must be {n} finite values > 0")
    return w * (n / w.sum())


def _iterate(w: np.ndarray, encoded: list[_Margin], n: int,
             bounds: tuple[float, float] | None, tol: float,
             max_iter: int) -> tuple[np.ndarray, int, float]:
    """Sweeps until margins (and bounds) hold within tol: (weights, sweeps, margin error);
    RakingError when max_iter sweeps were not enough."""
    def converged(weights: np.ndarray, err: float) -> bool:
        return err <= tol and (
            bounds is None
            or (weights.min() >= bounds[0] - tol and weights.max() <= bounds[1] + tol)
        )

    err = _margin_error(w, encoded)
    iterations = 0
    while not converged(w, err) and iterations < max_iter:
        w = _sweep(w, encoded, n, bounds)
        iterations += 1
        err = _margin_error(w, encoded)

    if not converged(w, err):
        msg = (
            f"raking did not converge after {iterations} iterations: "
            f"max margin error {err:.3g} (tolerance {tol:g})"
        )
        if bounds is not None:
            msg += f" (trim bounds [{bounds[0]:g}, {bounds[1]:g}] may be too tight)"
        raise RakingError(msg)
    return w, iterations, err


def rake(
    df: pd.DataFrame,
    margins: dict[str, dict[str, float]],
    *,
    base_weights=None,
    tol: float = 1e-8,
    max_iter: int = 100,
    trim: tuple[float, float] | None = None,
) -> RakeResult:
    """Rake ``df`` so its weighted category shares match ``margins``.

    margins: ``{variable: {category: share_or_total}}``; each variable is a
        column of df. Values all <= 1 are shares (must sum to 1 within 1e-6);
        otherwise totals, normalised to shares (must agree across variables).
    base_weights: optional positive design weights to start from (default 1).
    tol: converged when max |weighted share - target share| <= tol over all
        categories (and, with ``trim``, weights within bounds up to tol).
    max_iter: maximum number of sweeps (a sweep adjusts every variable once).
    trim: ``(lower, upper)`` bounds as multiples of the mean weight, e.g.
        (0.3, 3). Every raking step then trims and rescales within the
        category (bounded raking), until bounds and margins hold together.

    Weights are scaled to sum to len(df), so the mean weight is 1.
    Raises RakingError (a ValueError) on invalid or impossible margins, sample
    categories missing from the margins, infeasible bounds or non-convergence.
    """
    n = len(df)
    bounds = _check_settings(n, tol, max_iter, trim)
    encoded = _encode(df, margins, _target_shares(margins))
    if bounds is not None:
        _check_trim_feasible(encoded, n, bounds)
    w, iterations, err = _iterate(_start_weights(base_weights, n), encoded, n, bounds, tol,
                                  int(max_iter))
    return RakeResult(
        weights=w,
        iterations=iterations,
        converged=True,
        max_margin_error=err,
        min_weight=float(w.min()),
        max_weight=float(w.max()),
        design_effect=design_effect(w),
        effective_n=kish_effective_n(w),
    )
