"""Publishing: the BI snapshot holds aggregate tables only, is swapped in atomically, readers keep
the previous snapshot until they reconnect, and a failed or killed refresh leaves the published
files byte-identical.

The unit tests publish the session's `shipped_warehouse` (tests/conftest.py); the refresh tests
run the Dagster `refresh` job into pytest tmp folders, never into data/.
"""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from observatoire.publish import snapshot as publisher
from orchestration.publish import SNAPSHOT_KEY
from orchestration.runner import refresh
from tests.conftest import waves_seed
from tests.orchestration_support import leftovers, published_state, settings_in


def _tables(path: Path) -> dict[str, set[str]]:
    """{"schema.table": {columns}} of a DuckDB file (read-only)."""
    with duckdb.connect(str(path), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        rows = con.execute(
            "select c.table_schema || '.' || c.table_name, c.column_name "
            "from information_schema.columns c join information_schema.tables t "
            "using (table_catalog, table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and c.table_catalog = ?", [catalog]).fetchall()
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


def _count(path: Path, table: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.fixture(scope="module")
def published(shipped_warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("published")
    return publisher.publish(shipped_warehouse, out, run_id="first")


# --- what the snapshot holds ----------------------------------------------------------------

# The analyst's contract (README, "For an analyst"; docs/architecture.md): the tables BI tools
# find in the snapshot. quality.dq_validation_result joins them once Great Expectations has
# run (not in this dbt-only build; checked by test_orchestration).
CONTRACT_TABLES = {
    "marts.fct_indicator", "marts.fct_indicator_trend", "marts.dim_wave", "marts.dim_question",
    "marts.dim_answer_option", "reports.rpt_published_reconciliation",
    "reports.rpt_published_change_reconciliation",
    "reports.rpt_quality_summary", "reports.rpt_weighting_diagnostics",
}
# Respondent-level tables of the warehouse that must stay behind.
RESPONDENT_LEVEL = {"marts.dim_respondent", "marts.bridge_respondent_profession",
                    "marts.dq_quarantine"}


def test_snapshot_holds_bi_tables_and_nothing_respondent_level(published, shipped_warehouse):
    warehouse = _tables(shipped_warehouse)
    snapshot = _tables(published.snapshot)
    assert set(snapshot) == CONTRACT_TABLES | {"meta.snapshot"}
    assert set(warehouse) >= RESPONDENT_LEVEL  # they exist, and stay behind
    assert not any(cols & {"respondent_key", "respondent_id"} for cols in snapshot.values())
    for table in CONTRACT_TABLES:
        assert _count(published.snapshot, table) == _count(shipped_warehouse, table), table
    info = publisher.snapshot_info(published.snapshot)
    waves = sorted({int(row["wave_year"]) for row in waves_seed()})
    assert info["run_id"] == "first" and info["waves"] == waves
    assert not published.snapshot.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_parquet_export_matches_the_snapshot(published):
    link = published.parquet_dir
    assert link.is_symlink() and os.readlink(link).startswith(".parquet-")
    files = {p.stem for p in link.glob("*.parquet")}
    assert files == {t.split(".")[1] for t in published.tables}
    with duckdb.connect() as con:
        for table, rows in published.tables.items():
            parquet = link / f"{table.split('.')[1]}.parquet"
            assert con.execute(f"select count(*) from '{parquet}'").fetchone()[0] == rows


def _tiny_warehouse(path: Path, *, leak_in_indicator: bool = False) -> Path:
    """A warehouse with the required tables, quality tables and respondent-level tables."""
    respondent = ", 'r1' as respondent_key" if leak_in_indicator else ""
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "reports", "staging", "quality"):
            con.execute(f"create schema {schema}")
        con.execute(f"create table marts.fct_indicator as select 2024 as wave_year, 0.5 as value"
                    f"{respondent}")
        con.execute("create table marts.dim_wave as select 2024 as wave_year, 'pro' as survey")
        con.execute("create table marts.dim_question as select 'q1' as question_id")
        con.execute("create table marts.dim_answer_option as select 'q1:1' as answer_option_key")
        con.execute("create table reports.rpt_published_reconciliation as select 'ok' as status")
        con.execute("create table quality.dq_validation_result as "
                    "select 2024 as wave_year, 'speeders' as expectation, true as success")
        con.execute("create table marts.dq_quarantine as "
                    "select 2024 as wave_year, 'r1' as respondent_key, 'speeder' as reason")
        con.execute("create table reports.rpt_quality_summary as select 2024 as wave_year, 1 as n")
        con.execute("create table marts.fct_indicator_trend as select 2024 as wave_year, 0.1 as d")
        con.execute("create table marts.dim_respondent as select 'r1' as respondent_key")
        con.execute("create table marts.fct_response as select 'r1' as respondent_key")
        con.execute("create table marts.bridge_respondent_profession as select 1 as x")
        con.execute("create table marts.scratch as select 1 as x")  # not for BI
        con.execute("create view staging.stg_anything as select 1 as x")
    return path


def test_quality_tables_published_and_respondent_level_excluded(tmp_path):
    result = publisher.publish(_tiny_warehouse(tmp_path / "wh.duckdb"), tmp_path / "pub")
    assert set(result.tables) == {*publisher.REQUIRED_TABLES, "quality.dq_validation_result",
                                  "reports.rpt_quality_summary", "marts.fct_indicator_trend"}
    assert result.excluded == ["marts.dq_quarantine"]
    assert {p.stem for p in result.parquet_dir.glob("*.parquet")} == {
        t.split(".")[1] for t in result.tables}


def test_refuses_a_required_table_with_respondent_columns(tmp_path):
    good = publisher.publish(_tiny_warehouse(tmp_path / "good.duckdb"), tmp_path / "pub")
    before = published_state(tmp_path / "pub")
    bad = _tiny_warehouse(tmp_path / "bad.duckdb", leak_in_indicator=True)
    with pytest.raises(publisher.PublishError, match="respondent-level"):
        publisher.publish(bad, tmp_path / "pub")
    assert published_state(tmp_path / "pub") == before
    assert not leftovers(tmp_path / "pub")
    assert good.snapshot.exists()


# --- a failing step leaves the published files untouched ------------------------------------

def test_failed_publish_step_leaves_files_untouched_then_next_run_succeeds(
        shipped_warehouse, tmp_path, monkeypatch):
    settings = settings_in(tmp_path, warehouse=str(shipped_warehouse))  # publish reads it only
    publisher.publish(shipped_warehouse, settings.paths.published, run_id="before")
    before = published_state(settings.paths.published)

    def broken_export(*args, **kwargs):  # fails after the new snapshot file was written
        raise OSError("disk full while exporting Parquet")

    monkeypatch.setattr(publisher, "export_parquet", broken_export)
    with DagsterInstance.ephemeral() as instance:
        failed = refresh(["2024"], instance=instance, settings=settings, assets=[SNAPSHOT_KEY])
        assert not failed.success and failed.failures == ["published__observatoire_snapshot"]
        assert published_state(settings.paths.published) == before
        assert not leftovers(settings.paths.published)
        monkeypatch.undo()
        again = refresh(["2024"], instance=instance, settings=settings, assets=[SNAPSHOT_KEY])
    assert again.success
    assert publisher.snapshot_info(again.snapshot)["run_id"] == again.run_id
    assert published_state(settings.paths.published)["snapshot_sha256"] != before[
        "snapshot_sha256"]


# --- a reader keeps the previous snapshot during a full refresh -----------------------------
# Both read the session's `refreshed` (tests/conftest.py): the snapshot published from the
# shipped warehouse ("before"), a CLI refresh killed midway, then the refresh of wave 2024
# in process while two readers query the snapshot.

def test_readers_keep_working_during_full_refresh(refreshed):
    result = refreshed.result
    assert result.success, result.failures
    held, fresh = (json.loads(out) for out, _ in refreshed.readers)
    for report, (_, err) in zip((held, fresh), refreshed.readers, strict=True):
        assert report["errors"] == [], err
        assert report["queries"] > 50  # it kept querying throughout the refresh
        assert len(report["rows"]) == 1  # never a half-written table
        assert report["after"] == result.run_id  # a new connection sees the new snapshot
    # the open connection saw the previous snapshot until it reconnected
    assert held["seen"] == ["before"]
    # new connections saw the previous snapshot, then the new one: never anything else
    assert fresh["seen"] == ["before", result.run_id]


# --- a refresh killed midway leaves the published files untouched ---------------------------

def test_killed_refresh_leaves_published_untouched_then_next_run_succeeds(refreshed):
    killed = refreshed.killed
    assert killed.midway, "the refresh never reached the dbt build"
    assert killed.returncode == -signal.SIGKILL
    assert killed.published_state == refreshed.before
    assert killed.leftovers == []

    result = refreshed.result  # the next run
    assert result.success, result.failures
    assert refreshed.snapshot_run_id == result.run_id
    assert refreshed.after["snapshot_sha256"] != refreshed.before["snapshot_sha256"]
