"""Facts several parts of the project share, stated once: file names, folders, constants,
environment variable names, telemetry settings.

SQL cannot import this module: the dbt macros `landed_file_pattern()` and `z_95()` state the
same two facts for the models, and tests/test_conventions.py checks that both sides agree.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# -- files and folders ---------------------------------------------------------------------------

# A landed respondent file (and a codebook): <instrument>_<wave>[__tag].csv, e.g.
# pro_2024__synthetic.csv. The instrument is the survey (`pro`, `public`).
LANDED_FILE = re.compile(
    r"^(?P<instrument>[a-z]+)_(?P<wave>\d{4})(?:__(?P<tag>[a-z0-9_]+))?\.csv$")
# The same, for a file of any wave-named kind (respondent files, codebooks,
# published_figures_<wave>.csv): the stem may hold underscores.
WAVE_FILE = re.compile(r"^(?P<stem>[a-z_]+?)_(?P<wave>\d{4})(?:__[a-z0-9_]+)?\.csv$")
# What the dbt macro landed_file_pattern() matches on a path (groups: survey, wave).
LANDED_FILE_IN_PATH = r"([a-z]+)_(\d{4})[^/]*\.csv$"

# Configuration and the landed files (tracked by git).
SEEDS = PROJECT_ROOT / "seeds"
# Everything a run or a landing produces (git-ignored).
DATA = PROJECT_ROOT / "data"


def landing_state_root(landing_root: Path) -> Path:
    """Where the landing keeps its state (manifest, archived versions) for a landing root:
    `data/landing/` beside the folder holding the landing root (`seeds/` -> `data/landing/`),
    so that landing writes nothing into the configuration but the landed files themselves."""
    return Path(landing_root).resolve().parent / "data" / "landing"


# -- statistics ----------------------------------------------------------------------------------

# Two-sided 95 % critical value of the standard normal, scipy.stats.norm.ppf(0.975) (the dbt
# macro z_95() in SQL).
Z_95 = 1.959963984540054

# -- environment variables -----------------------------------------------------------------------

ENV_WAREHOUSE = "OBSERVATOIRE_WAREHOUSE"
ENV_LANDING_ROOT = "OBSERVATOIRE_LANDING_ROOT"
ENV_PUBLISHED_DIR = "OBSERVATOIRE_PUBLISHED_DIR"
ENV_REPORT_DIR = "OBSERVATOIRE_REPORT_DIR"
ENV_SITE_DIR = "OBSERVATOIRE_SITE_DIR"
ENV_TEST_WAVES = "OBSERVATOIRE_TEST_WAVES"  # read by macros/get_where_subquery.sql
ENV_PSEUDONYM_KEY = "OBSERVATOIRE_PSEUDONYM_KEY"
ENV_DATA_DIR = "OBSERVATOIRE_DATA_DIR"
ENV_DUCKDB_MEMORY_LIMIT = "OBSERVATOIRE_DUCKDB_MEMORY_LIMIT"  # read by profiles.yml
ENV_DBT_THREADS = "OBSERVATOIRE_DBT_THREADS"  # read by profiles.yml (default 2)
ENV_REFRESH_CRON = "OBSERVATOIRE_REFRESH_CRON"
# run_dbt forks dbt commands from a process that imported dbt once (observatoire/warehouse/
# dbt_fork.py): set by the tests, which run dozens of dbt commands
ENV_DBT_FORK = "OBSERVATOIRE_DBT_FORK"

# -- telemetry: off everywhere (the Makefile exports the same two variables) ---------------------

TELEMETRY_OFF_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
DAGSTER_YAML = """\
# Written by `observatoire` when absent. Local instance of the observatoire's Dagster.
telemetry:
  enabled: false
# One refresh at a time: the warehouse has a single writer (DuckDB).
concurrency:
  runs:
    max_concurrent_runs: 1
"""
