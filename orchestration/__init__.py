"""Dagster code location of the observatoire: the yearly refresh, landed files to published."""

import warnings

import dagster as dg

# Every asset opts into single-run backfills (one dbt build for many waves); the parameter is
# still flagged beta and would warn at each load.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
