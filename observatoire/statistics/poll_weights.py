"""Weights of a weighted instrument (the public poll): raking to population margins.

The margins are the `population_margins` seed (INSEE figures, with their source and year);
joint margins such as sex × age band are written `sex*age_band` with categories
`homme*age_18_24`. Settings (tolerance, iterations, trimming bounds) are dbt vars in
`dbt_project.yml`, read here too so that the generator and the warehouse weight alike.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from observatoire import spec
from observatoire.statistics.raking import RakeResult, rake


def raking_settings(project_root: Path = spec.PROJECT_ROOT) -> dict:
    """Raking settings from the `vars:` of dbt_project.yml."""
    with open(project_root / "dbt_project.yml", encoding="utf-8") as handle:
        dbt_vars = yaml.safe_load(handle).get("vars", {})
    return {
        "tol": float(dbt_vars.get("raking_tolerance", 1e-6)),
        "max_iter": int(dbt_vars.get("raking_max_iterations", 100)),
        "trim": (float(dbt_vars.get("weight_trim_lower", 0.3)),
                 float(dbt_vars.get("weight_trim_upper", 3.0))),
    }


def load_margins(survey: str, seeds: Path = spec.SEEDS) -> dict[str, dict[str, float]]:
    """Population margins of a survey: variable -> category -> share (0-1)."""
    margins: dict[str, dict[str, float]] = {}
    for row in spec.read_csv_rows(seeds / "population_margins.csv"):
        if row["survey"] == survey:
            margins.setdefault(row["variable"], {})[row["category"]] = float(row["share_pct"]) / 100
    return margins


def raking_frame(answers: pd.DataFrame, margins: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Each respondent's category of every margin variable (joint ones joined by `*`)."""
    frame = pd.DataFrame(index=answers.index)
    for variable in margins:
        parts = variable.split("*")
        frame[variable] = answers[parts].astype(str).agg("*".join, axis=1)
    return frame


def weigh(answers: pd.DataFrame, margins: dict[str, dict[str, float]],
          settings: dict | None = None) -> RakeResult:
    """Rake respondents (one row each, option keys in columns named like the questions)."""
    settings = settings or raking_settings()
    frame = raking_frame(answers, margins)
    return rake(frame, margins, tol=settings["tol"], max_iter=settings["max_iter"],
                trim=settings["trim"])
