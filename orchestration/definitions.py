"""Dagster code location: the yearly refresh, from landed files to the published warehouse."""

import dagster as dg

from observatoire.warehouse import dbt_fork
from observatoire.warehouse.dbt_runner import dbt_executable, forking
from orchestration.dbt_models import ObservatoireDbtCli, dbt_project, observatoire_dbt
from orchestration.jobs import refresh_job
from orchestration.landing import landing_assets
from orchestration.publish import auditor_report, observatoire_snapshot
from orchestration.quality_checks import great_expectations_suites
from orchestration.resources import ObservatoireSettings
from orchestration.schedules import yearly_refresh
from orchestration.sensors import landing_sensor
from orchestration.serving import data_catalog, postgres_release
from orchestration.site import barometer_site

defs = dg.Definitions(
    assets=[*landing_assets(), observatoire_dbt, observatoire_snapshot, auditor_report,
            barometer_site, postgres_release, data_catalog],
    asset_checks=[great_expectations_suites],
    jobs=[refresh_job],
    schedules=[yearly_refresh],
    sensors=[landing_sensor],
    resources={
        "settings": ObservatoireSettings.from_env(),
        # under the tests (OBSERVATOIRE_DBT_FORK), dbt forked from a helper that imported it
        "dbt": ObservatoireDbtCli(project_dir=dbt_project, dbt_executable=str(
            dbt_fork.CLIENT_SCRIPT) if forking() else dbt_executable()),
    },
    # Steps run one after another in the run's process: the warehouse has one writer at a time
    # (DuckDB), the chain is sequential anyway, and no process is spawned per step.
    executor=dg.in_process_executor,
)
