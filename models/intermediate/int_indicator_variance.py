"""Linearised standard error of every share and mean of the weighted waves, per segment.

Raked (calibrated) estimates: the variance is that of the residuals of each estimate's
influence values regressed on the raking margins' dummies
(observatoire.statistics.linearisation, the one implementation; docs/methodology.md).
fct_indicator uses it as `standard_error` and for the intervals of weighted waves; unweighted
waves have no row here and keep their simple-random-sampling formulas.

A domain is an indicator's base within one segment of the segment types its catalogue row
lists, the same rows fct_indicator sums. Only the weighted waves (small polls) leave DuckDB.
"""

import numpy as np
import pandas as pd

from observatoire.statistics.linearisation import calibration_matrix, domain_ratio_variances

KEYS = ["indicator_id", "segment_type", "segment_value"]
COLUMNS = ["survey", "wave_year", *KEYS, "base_n", "estimate", "linearised_variance",
           "standard_error"]


def _wave_variances(raked: pd.DataFrame, members: pd.DataFrame,
                    segments: pd.DataFrame, types: pd.DataFrame) -> pd.DataFrame:
    raked = raked.reset_index(drop=True)
    position = pd.Series(raked.index, index=raked["respondent_key"])
    domains = members.merge(segments, on="respondent_key").merge(
        types, on=["indicator_id", "segment_type"])
    if domains.empty:
        return pd.DataFrame(columns=[*KEYS, "base_n", "estimate", "linearised_variance"])
    number = domains.groupby(KEYS, sort=True).ngroup().to_numpy()
    value = np.where(domains["unit"] == "share", domains["is_numerator"].astype(float),
                     domains["numeric_value"].astype(float))
    estimates, variances = domain_ratio_variances(
        raked["weight"].to_numpy(float), calibration_matrix(raked["raking_cells"].tolist()),
        number, position.loc[domains["respondent_key"]].to_numpy(), value)
    out = domains.assign(domain=number).groupby(KEYS, sort=True).size().rename(
        "base_n").reset_index()
    out["estimate"] = estimates
    out["linearised_variance"] = variances
    return out


def model(dbt, session):
    dbt.config(materialized="table")
    raked = dbt.ref("int_poll_weights").project(
        "survey, wave_year, respondent_key, weight, raking_cells").df()
    catalogue = dbt.ref("indicator_catalogue").df()
    types = catalogue[catalogue["unit"].isin(["share", "mean"])][
        ["survey", "indicator_id", "segment_types"]].assign(
        segment_type=lambda c: c["segment_types"].str.split("|")).explode("segment_type")
    frames = []
    for (survey, wave_year), wave in raked.groupby(["survey", "wave_year"]):
        in_wave = f"survey = '{survey}' and wave_year = {int(wave_year)}"
        members = dbt.ref("int_indicator_members").filter(
            f"{in_wave} and unit in ('share', 'mean')").project(
            "indicator_id, respondent_key, unit, is_numerator, numeric_value").df()
        segments = dbt.ref("int_respondent_segments").filter(in_wave).project(
            "respondent_key, segment_type, segment_value").df()
        wave_types = types[types["survey"] == survey][["indicator_id", "segment_type"]]
        result = _wave_variances(wave, members, segments, wave_types)
        frames.append(result.assign(survey=survey, wave_year=int(wave_year)))
    if not frames:  # no weighted wave landed: an empty table of the same columns and types
        return dbt.ref("int_poll_weights").filter("false").project(
            "survey, cast(wave_year as integer) as wave_year, "
            + ", ".join(f"cast(null as varchar) as {c}" for c in KEYS)
            + ", cast(null as bigint) as base_n, cast(null as double) as estimate, "
            "cast(null as double) as linearised_variance, cast(null as double) as standard_error")
    result = pd.concat(frames, ignore_index=True)
    result["wave_year"] = result["wave_year"].astype("int32")
    result["base_n"] = result["base_n"].astype("int64")
    result["standard_error"] = np.sqrt(result["linearised_variance"])
    return result[COLUMNS]
