"""Running dbt with the project's settings, for the CLI and tests.

dbt runs in a process of its own: dbt-duckdb keeps its DuckDB connection open for the life of
the process, and DuckDB allows one writer process — a separate process releases the file when
dbt ends, so the caller can read (or publish) the warehouse right after. That process is a
subprocess, or, when OBSERVATOIRE_DBT_FORK is set (the tests), a child forked from a helper that
has imported dbt once (observatoire/warehouse/dbt_fork.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from observatoire.conventions import (
    ENV_DBT_FORK,
    ENV_TEST_WAVES,
    ENV_WAREHOUSE,
    PROJECT_ROOT,
    TELEMETRY_OFF_ENV,
)
from observatoire.warehouse import dbt_fork

DBT_ENV = {"DBT_PROFILES_DIR": str(PROJECT_ROOT), **TELEMETRY_OFF_ENV}

TEST_WAVES_ENV = ENV_TEST_WAVES
# What dbt reads of the project (relative to its root), and the kinds of files that matter.
DBT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")
DBT_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".py", ".csv"}


def test_waves_env(waves) -> dict[str, str]:
    """Environment that makes the tests of the models incremental by wave read `waves` only
    (the others are immutable there and were tested when built; macros/get_where_subquery.sql);
    no waves: every wave. An environment variable read at execution, not a dbt var: a var that
    changes with every run would make dbt re-parse the whole project."""
    return {TEST_WAVES_ENV: ",".join(str(int(w)) for w in waves)}


def dbt_env() -> None:
    """Settings every dbt invocation needs: profile in the project, no telemetry."""
    for key, value in DBT_ENV.items():
        os.environ.setdefault(key, value)


def dbt_executable() -> str:
    """The dbt of this Python environment."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def forking(env: dict[str, str] | None = None) -> bool:
    """Whether dbt commands run in children of a warm helper (OBSERVATOIRE_DBT_FORK in `env`,
    default this process's environment: the tests)."""
    return bool((os.environ if env is None else env).get(ENV_DBT_FORK))


def run_dbt(args: list[str], *, warehouse: Path | None = None, project_dir: Path = PROJECT_ROOT,
            dbt_vars: dict | None = None, capture: bool = False,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a dbt command for project_dir (`env`: more environment variables); raises
    RuntimeError (with dbt's output) on failure."""
    dbt_env()
    env = {**os.environ, **(env or {})}
    # dbt loads our plugin (observatoire.warehouse.dbt_plugin) and Python models from this package
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    if warehouse is not None:
        env[ENV_WAREHOUSE] = str(warehouse)
    cli = [dbt_executable(), *args, "--project-dir", str(project_dir),
           "--profiles-dir", str(PROJECT_ROOT)]
    if dbt_vars:
        cli += ["--vars", json.dumps(dbt_vars)]
    if forking(env):
        result = dbt_fork.WARM.run(cli[1:], project_dir, env)
        if not capture:
            print(result.stdout, end="", flush=True)
    else:
        result = subprocess.run(cli, cwd=project_dir, env=env, text=True,
                                capture_output=capture)
    if result.returncode != 0:
        detail = (result.stdout or "")[-4000:] if capture else "see dbt's output above"
        raise RuntimeError(f"dbt {' '.join(args)} failed (exit {result.returncode}): {detail}")
    return result
