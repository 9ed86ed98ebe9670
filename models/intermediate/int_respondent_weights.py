"""Weights of accepted respondents: 1.0 for unweighted instruments; raking to population
margins (the `population_margins` seed) for waves flagged `is_weighted` in the `waves` seed.

A dbt Python model (run in-process by dbt-duckdb) so that weighting stays in the dbt lineage;
the raking itself is observatoire.weighting.rake, tested on its own.
"""

import pandas as pd

from observatoire.poll_weights import weigh


def model(dbt, session):
    dbt.config(materialized="table")
    accepted = dbt.ref("int_respondents_accepted").df()
    respondents = accepted[["survey", "wave_year", "respondent_key"]]
    waves = dbt.ref("waves").df()
    margins_rows = dbt.ref("population_margins").df()
    answers = dbt.ref("int_responses_decoded").df()
    answers = answers[answers["invalid_reason"].isna() & answers["is_selected"]]

    frames = []
    for (survey, wave_year), group in respondents.groupby(["survey", "wave_year"]):
        group = group.copy()
        wave = waves[(waves["survey"] == survey) & (waves["wave_year"] == wave_year)]
        weighted = not wave.empty and bool(wave["is_weighted"].iloc[0])
        group["weight"] = 1.0
        group["raking_iterations"] = 0
        if weighted:
            rows = margins_rows[margins_rows["survey"] == survey]
            margins: dict[str, dict[str, float]] = {}
            for row in rows.itertuples():
                margins.setdefault(row.variable, {})[row.category] = row.share_pct / 100
            questions = sorted({q for v in margins for q in v.split("*")})
            wide = (
                answers[(answers["survey"] == survey) & (answers["wave_year"] == wave_year)
                        & answers["question_id"].isin(questions)]
                .pivot_table(index="respondent_key", columns="question_id",
                             values="option_key", aggfunc="first")
            )
            wide = wide.loc[wide.index.isin(group["respondent_key"])]
            wave_keys = wide.dropna().index
            missing = set(group["respondent_key"]) - set(wave_keys)
            if missing:
                raise ValueError(
                    f"{survey} {wave_year}: {len(missing)} respondents lack a quota variable "
                    f"({', '.join(questions)}); they cannot be weighted")
            result = weigh(wide.loc[list(wave_keys)], margins)
            weights = pd.Series(result.weights, index=wide.loc[list(wave_keys)].index)
            group["weight"] = group["respondent_key"].map(weights).astype(float)
            group["raking_iterations"] = result.iterations
        frames.append(group)
    out = pd.concat(frames, ignore_index=True)
    out["wave_year"] = out["wave_year"].astype("int32")
    return out
