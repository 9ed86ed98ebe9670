"""Shared fixtures: a warehouse built from the shipped files into a temporary folder, and
copies of the project for tests that change configuration (never the repository itself)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from bench import scale
from observatoire import spec
from observatoire.spec import PROJECT_ROOT
from observatoire.warehouse.dbt_runner import run_dbt

# A fixed key for tests: pseudonyms are reproducible and no key file is written in data/.
os.environ.setdefault("OBSERVATOIRE_PSEUDONYM_KEY", "test-key-not-secret")

def copy_project(dest: Path) -> Path:
    """Copy what dbt needs (models, macros, seeds with the shipped files, settings) into dest."""
    return scale.copy_project(dest, keep_raw=True)


def waves_seed() -> list[dict[str, str]]:
    """Rows of the shipped waves seed (one per wave and survey), read directly: tests derive
    what the shipped data must give from it instead of restating the waves."""
    return spec.read_csv_rows(PROJECT_ROOT / "seeds" / "waves.csv")


def drop_shipped_wave(seeds: Path, year: int) -> None:
    """Remove a shipped wave (its files and waves rows) from a copy of the seeds, for tests
    that land their own made-up wave of that year."""
    for folder in ("raw", "codebooks", "published"):
        for path in (seeds / folder).glob(f"*_{year}*.csv"):
            path.unlink()
    lines = (seeds / "waves.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (seeds / "waves.csv").write_text("".join(x for x in lines if not x.startswith(f"{year},")),
                                     encoding="utf-8")


def build(project_dir: Path, warehouse: Path, select: list[str] | None = None,
          dbt_vars: dict | None = None) -> Path:
    """dbt build of project_dir into warehouse (target files kept beside it)."""
    args = ["build", "--quiet", "--target-path", str(warehouse.parent / "target")]
    if select:
        args += ["--select", *select]
    run_dbt(args, warehouse=warehouse, project_dir=project_dir, dbt_vars=dbt_vars, capture=True)
    return warehouse


@pytest.fixture(scope="session")
def shipped_warehouse(tmp_path_factory) -> Path:
    """The warehouse built from the shipped files, as `make run` builds it."""
    root = tmp_path_factory.mktemp("shipped")
    return build(PROJECT_ROOT, root / "warehouse.duckdb")


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def run_dbt_docs(warehouse: Path) -> Path:
    """`dbt docs generate` against a built warehouse; returns the target folder."""
    target = warehouse.parent / "docs_target"
    run_dbt(["docs", "generate", "--quiet", "--target-path", str(target)], warehouse=warehouse,
            capture=True)
    return target


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (`CI=true`) a skipped test is a failed test: a green CI has run everything."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"
