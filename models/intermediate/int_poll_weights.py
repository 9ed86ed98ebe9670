"""Raked weights of the accepted respondents of weighted waves (waves flagged `is_weighted` in
the `waves` seed): raking to population margins (the `population_margins` seed). Every other
wave has weight 1.0, given by the view int_respondent_weights, which reads this table.

A dbt Python model (run in-process by dbt-duckdb) so that weighting stays in the dbt lineage;
the raking itself is observatoire.statistics.raking.rake, tested on its own.

Only what raking needs leaves DuckDB: the quota answers of weighted waves. Unweighted waves
(the large ones: the professional survey) are neither read nor written here, so this model's
cost does not grow with them (a new professional wave used to rewrite every wave's weight 1.0).

`raking_cells` keeps each respondent's cell of every margin (`variable=category`): the
calibration variables of the linearised variance (int_indicator_variance).
"""

import pandas as pd

from observatoire.statistics.poll_weights import raking_frame, weigh


def _quoted(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def model(dbt, session):
    dbt.config(materialized="table")
    accepted = dbt.ref("int_respondents_accepted")
    waves = dbt.ref("waves").df()
    weighted = waves[waves["is_weighted"].astype(bool)][["survey", "wave_year"]]
    pairs = {(s, int(w)) for s, w in weighted.itertuples(index=False)}
    in_weighted = " or ".join(
        f"(survey = '{s}' and wave_year = {w})" for s, w in sorted(pairs)) or "false"

    columns = ("survey, cast(wave_year as integer) as wave_year, respondent_key, "
               "cast(1.0 as double) as weight, cast(0 as bigint) as raking_iterations, "
               "cast([] as varchar[]) as raking_cells")
    respondents = accepted.filter(in_weighted).project(
        "survey, wave_year, respondent_key").df()
    if respondents.empty:  # no weighted wave landed: an empty table of the same columns
        return accepted.filter("false").project(columns)
    margins_rows = dbt.ref("population_margins").df()
    frames = []
    for (survey, wave_year), group in respondents.groupby(["survey", "wave_year"]):
        group = group.copy()
        rows = margins_rows[margins_rows["survey"] == survey]
        margins: dict[str, dict[str, float]] = {}
        for row in rows.itertuples():
            margins.setdefault(row.variable, {})[row.category] = row.share_pct / 100
        questions = sorted({q for v in margins for q in v.split("*")})
        answers = dbt.ref("int_responses_decoded").filter(
            f"survey = '{survey}' and wave_year = {int(wave_year)} and invalid_reason is null "
            f"and is_selected and question_id in ({_quoted(questions)})"
        ).project("respondent_key, question_id, option_key").df()
        wide = answers.pivot_table(index="respondent_key", columns="question_id",
                                   values="option_key", aggfunc="first")
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
        cells = raking_frame(wide.loc[list(wave_keys)], margins)
        cells = pd.Series([[f"{v}={c}" for v, c in zip(cells.columns, r, strict=True)]
                           for r in cells.itertuples(index=False)], index=cells.index)
        group["raking_cells"] = group["respondent_key"].map(cells)
        group["raking_iterations"] = result.iterations
        frames.append(group)
    raked = pd.concat(frames, ignore_index=True)
    raked["wave_year"] = raked["wave_year"].astype("int32")
    raked["raking_iterations"] = raked["raking_iterations"].astype("int64")
    return raked[["survey", "wave_year", "respondent_key", "weight", "raking_iterations",
                  "raking_cells"]]
