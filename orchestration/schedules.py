"""Yearly schedule: after the spring fieldwork, refresh the latest landed wave only.

The cron comes from OBSERVATOIRE_REFRESH_CRON (default 06:00 on 1 July, Paris time). The
latest wave is the most recent landed wave not after the tick's year, so re-evaluating an old
tick never requests a wave that had not landed then.
"""

import os

import dagster as dg

from observatoire.conventions import ENV_REFRESH_CRON
from orchestration.jobs import refresh_job
from orchestration.partitions import discover_waves, sync_waves
from orchestration.resources import ObservatoireSettings

DEFAULT_CRON = "0 6 1 7 *"
REFRESH_CRON = os.environ.get(ENV_REFRESH_CRON, DEFAULT_CRON)


def latest_wave(waves: list[str], year: int) -> str | None:
    eligible = [w for w in waves if int(w) <= year]
    return max(eligible, key=int) if eligible else None


@dg.schedule(
    job=refresh_job,
    cron_schedule=REFRESH_CRON,
    execution_timezone="Europe/Paris",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the latest landed wave once a year, after the spring fieldwork.",
)
def yearly_refresh(context: dg.ScheduleEvaluationContext, settings: ObservatoireSettings):
    tick = context.scheduled_execution_time
    waves = discover_waves(settings.paths.landing)
    wave = latest_wave(waves, tick.year)
    if wave is None:
        return dg.SkipReason(f"no wave landed in {settings.paths.landing} up to {tick.year}")
    sync_waves(context.instance, settings.paths.landing)  # a wave landed but not yet registered
    return dg.RunRequest(run_key=f"yearly-{tick:%Y-%m-%d}-{wave}", partition_key=wave,
                      tags={"observatoire/trigger": "dg.schedule"})
