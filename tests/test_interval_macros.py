"""The SQL that computes the published intervals, against independent values.

`wilson_bound` (macros/intervals.sql) and the `t_quantile` function of the dbt plugin are run
by dbt itself (`dbt show --inline` on an empty DuckDB file) and compared with published tables
(Newcombe 1998, Student t tables), closed forms worked by hand, and scipy's own Wilson
interval (`scipy.stats.binomtest(...).proportion_ci(method="wilson")`).
"""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats

from observatoire.warehouse.dbt_runner import run_dbt

# (successes, n): Newcombe (1998), Stat Med 17:857-872, Table II, method 3 (score, no
# continuity correction), published to 4 decimals
NEWCOMBE = {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605),
            (0, 20): (0.0000, 0.1611), (1, 29): (0.0061, 0.1718)}
GRID = [(k, n) for n in (1, 2, 7, 30, 100, 794, 1619) for k in sorted({0, 1, n // 3, n // 2, n})]
# Student t quantiles from printed tables (3 decimals): (p, df) -> t
T_TABLE = {(0.975, 1): 12.706, (0.975, 15): 2.131, (0.975, 16): 2.120, (0.995, 9): 3.250,
           (0.975, 30): 2.042}


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """wilson_bound of every (k, n) of the cases, and t_quantile of the t cases, by dbt."""
    root = tmp_path_factory.mktemp("intervals")
    shares = sorted(set(NEWCOMBE) | set(GRID) | {(50, 100), (0, 0)})
    share_rows = ", ".join(f"({k}.0, {n}.0)" for k, n in shares)
    t_rows = ", ".join(f"({p}, cast({df} as double))"
                       for p, df in [*T_TABLE, (0.975, 0), (0.975, 0.5)])
    sql = (
        "select 'share' as kind, k as a, n as b, "
        "{{ wilson_bound('k / nullif(n, 0)', 'n', 'low') }} as low, "
        "{{ wilson_bound('k / nullif(n, 0)', 'n', 'high') }} as high "
        f"from (values {share_rows}) as v(k, n) "
        "union all "
        "select 't', p, df, t_quantile(p, df), null "
        f"from (values {t_rows}) as v(p, df)"
    )
    result = run_dbt(["--quiet", "show", "--inline", sql, "--output", "json", "--limit", "-1",
                      "--target-path", str(root / "target")],
                     warehouse=root / "empty.duckdb", capture=True)
    rows = json.loads(result.stdout[result.stdout.index("{"):])["show"]
    return {(r["kind"], r["a"], r["b"]): (r["low"], r["high"]) for r in rows}


@pytest.mark.parametrize(("k", "n"), list(NEWCOMBE))
def test_wilson_matches_newcombe_table(computed, k, n):
    low, high = computed[("share", k, n)]
    assert (low, high) == (pytest.approx(NEWCOMBE[(k, n)][0], abs=5e-5),
                           pytest.approx(NEWCOMBE[(k, n)][1], abs=5e-5))


def test_wilson_closed_forms_by_hand(computed):
    z2 = stats.norm.ppf(0.975) ** 2
    # p = 0.5, n = 100: centre 0.5, half-width z / (20 sqrt(1 + z^2/100)) = 0.0961685...
    half = math.sqrt(z2) / (20 * math.sqrt(1 + z2 / 100))
    assert computed[("share", 50, 100)] == (pytest.approx(0.5 - half, abs=1e-12),
                                            pytest.approx(0.5 + half, abs=1e-12))
    # p = 0: [0, z^2 / (n + z^2)]; n = 20 -> 0.161125...
    low, high = computed[("share", 0, 20)]
    assert low == pytest.approx(0.0, abs=1e-15) and high == pytest.approx(z2 / (20 + z2),
                                                                           abs=1e-12)
    # no respondent: no interval
    assert computed[("share", 0, 0)] == (None, None)


@pytest.mark.parametrize(("k", "n"), GRID)
def test_wilson_matches_scipy(computed, k, n):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = computed[("share", k, n)]
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


@pytest.mark.parametrize(("p", "df"), list(T_TABLE))
def test_t_quantile_matches_printed_tables(computed, p, df):
    assert computed[("t", p, df)][0] == pytest.approx(T_TABLE[(p, df)], abs=5e-4)


def test_t_quantile_is_null_without_degrees_of_freedom(computed):
    # a mean on one respondent (df = 0) has no interval; it must not abort the query
    assert computed[("t", 0.975, 0)] == (None, None)
    assert computed[("t", 0.975, 0.5)] == (None, None)
