"""Running dbt in-process (dbtRunner) with the project's settings, for the CLI and tests."""

from __future__ import annotations

import os
from pathlib import Path

from observatoire.spec import PROJECT_ROOT

DBT_ENV = {
    "DBT_PROFILES_DIR": str(PROJECT_ROOT),
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
}


def dbt_env() -> None:
    """Settings every dbt invocation needs: profile in the project, no telemetry."""
    for key, value in DBT_ENV.items():
        os.environ.setdefault(key, value)


def run_dbt(args: list[str], *, warehouse: Path | None = None, project_dir: Path = PROJECT_ROOT,
            dbt_vars: dict | None = None):
    """Run a dbt command in-process; raises RuntimeError when it fails."""
    import json

    from dbt.cli.main import dbtRunner

    dbt_env()
    if warehouse is not None:
        os.environ["OBSERVATOIRE_WAREHOUSE"] = str(warehouse)
    cli = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(PROJECT_ROOT)]
    if dbt_vars:
        cli += ["--vars", json.dumps(dbt_vars)]
    cwd = os.getcwd()
    os.chdir(project_dir)  # source globs are relative to the project
    try:
        result = dbtRunner().invoke(cli)
    finally:
        os.chdir(cwd)
    if not result.success:
        raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception or 'see the log above'}")
    return result
