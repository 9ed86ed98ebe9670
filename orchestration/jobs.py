"""The refresh job: the whole graph (landed files -> dbt -> checks -> snapshot -> report).

The schedule, the sensor, the CLI (`observatoire run`) and the UI all launch this one job.
"""

import dagster as dg

REFRESH_JOB = "refresh"

refresh_job = dg.define_asset_job(
    name=REFRESH_JOB,
    selection=dg.AssetSelection.all(),
    description="Yearly refresh of one or more waves: check the landed files, dbt build, Great "
                "Expectations, publish the BI snapshot and the auditor's report.",
)
