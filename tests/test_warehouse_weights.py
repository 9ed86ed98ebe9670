"""The warehouse's raked weights reproduce the `population_margins` seed, joint margin included,
and a weighted respondent without a quota answer stops the build with a clear error.

Expected shares are recomputed here from the landed file, the codebook and the margins seed
(pandas), never read from the models under test.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from observatoire import spec
from observatoire.spec import PROJECT_ROOT
from tests.conftest import build, project_copy, query

RAW = "seeds/raw/public_2024__synthetic.csv"
CODEBOOK = "seeds/codebooks/public_2024.csv"


def _tolerance() -> float:
    with open(PROJECT_ROOT / "dbt_project.yml", encoding="utf-8") as handle:
        return float(yaml.safe_load(handle)["vars"]["raking_tolerance"])


def _weighted_shares(warehouse) -> pd.DataFrame:
    """Weighted share of every margin cell, from the raw answers decoded by the codebook."""
    raw = pd.read_csv(PROJECT_ROOT / RAW, dtype=str, keep_default_na=False)
    weights = pd.DataFrame(query(warehouse, """
        select a.source_row, w.weight from intermediate.int_respondents_accepted a
        inner join intermediate.int_respondent_weights w using (survey, wave_year, respondent_key)
        where a.survey = 'public' and a.wave_year = 2024"""), columns=["source_row", "weight"])
    raw["source_row"] = raw["source_row"].astype(int)
    frame = raw.merge(weights, on="source_row", validate="one_to_one")
    book = spec.load_codebook(PROJECT_ROOT / CODEBOOK).by_id()
    margins = pd.read_csv(PROJECT_ROOT / "seeds" / "population_margins.csv")
    margins = margins[margins["survey"] == "public"]
    rows = []
    for variable, cells in margins.groupby("variable"):
        keys = [frame[q].map({o.code: o.key for o in book[q].options}) for q in variable.split("*")]
        category = keys[0].str.cat(keys[1:], sep="*") if len(keys) > 1 else keys[0]
        observed = frame["weight"].groupby(category).sum() / frame["weight"].sum()
        target = cells.set_index("category")["share_pct"] / cells["share_pct"].sum()
        for cat, share in target.items():
            rows.append((variable, cat, share, observed.get(cat, 0.0)))
    return pd.DataFrame(rows, columns=["variable", "category", "target", "observed"])


def test_raked_weights_reproduce_population_margins(shipped_warehouse):
    shares = _weighted_shares(shipped_warehouse)
    # 10 sex × age cells, 13 regions, 8 socio-professional groups: every row of the seed
    assert shares.groupby("variable").size().to_dict() == {"csp": 8, "region": 13,
                                                          "sex*age_band": 10}
    errors = (shares["observed"] - shares["target"]).abs()
    assert errors.max() <= _tolerance()
    joint = shares[shares["variable"] == "sex*age_band"].set_index("category")
    assert joint.loc["femme*age_65_plus", "observed"] == pytest.approx(15.232 / 100, abs=1e-6)
    # the diagnostics report the same largest gap
    (reported,) = query(shipped_warehouse, """
        select max_margin_error from reports.rpt_weighting_diagnostics
        where survey = 'public' and wave_year = 2024""")[0]
    assert reported == pytest.approx(errors.max(), abs=1e-9)
    # weights sum to the sample size (mean weight 1)
    assert query(shipped_warehouse, """
        select round(sum(weight), 6), count(*) from intermediate.int_respondent_weights
        where survey = 'public' and wave_year = 2024""") == [(1619.0, 1619)]


def test_respondent_without_quota_answer_stops_the_build(parsed_project, tmp_path):
    """`sex` made optional, one respondent leaves it blank: accepted, but not weightable."""
    project, warehouse = project_copy(parsed_project, tmp_path)
    codebook = project / CODEBOOK
    rows = spec.read_csv_rows(codebook)
    for row in rows:
        if row["question_id"] == "sex":
            row["is_required"] = "false"
    pd.DataFrame(rows).to_csv(codebook, index=False)
    raw = pd.read_csv(project / RAW, dtype=str, keep_default_na=False)
    raw.loc[0, "sex"] = ""
    raw.to_csv(project / RAW, index=False)
    with pytest.raises(RuntimeError) as failure:
        build(project, warehouse, select=["+int_poll_weights"])
    assert ("public 2024: 1 respondents lack a quota variable (age_band, csp, region, sex); "
            "they cannot be weighted") in str(failure.value)
