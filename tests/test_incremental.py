"""Respondent-level models are incremental by wave: a second build recomputes nothing, a landed
file for a wave already built changes nothing until the wave is rebuilt (`rebuild_waves`), and
a rebuilt wave is exactly what a fresh build of the same files gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import build, dbt_in, project_copy, query

# respondent-level tables (incremental by wave) and the figures computed from them
TABLES = ["staging.stg_landed__respondents", "staging.stg_landed__responses",
          "intermediate.int_responses_decoded", "intermediate.int_respondent_checks",
          "intermediate.int_indicator_members", "marts.dim_respondent", "marts.fct_response",
          "marts.bridge_respondent_profession", "marts.fct_indicator"]
DROPPED = 40  # respondents removed from the professional file


def _rows_per_wave(warehouse) -> dict[str, list]:
    return {t: query(warehouse, f"select survey, wave_year, count(*) from {t} group by all "
                                f"order by all") for t in TABLES}


def _figures(warehouse) -> list[tuple]:
    return query(warehouse, """
        select survey, wave_year, indicator_id, segment_type, segment_value, base_n,
               round(value, 12)
        from marts.fct_indicator order by all""")


def _drop_last_rows(path, n: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-n]), encoding="utf-8")


def test_second_build_and_relanded_wave_need_rebuild(built_copy, parsed_project, tmp_path):
    project, warehouse = project_copy(built_copy, tmp_path)  # a first build of the shipped files
    first = _rows_per_wave(warehouse)
    figures = _figures(warehouse)
    assert all(first.values())

    # a corrected file for 2024 lands, then a second build: it appends nothing to any wave
    # (2025's file is unchanged), and past waves are immutable until rebuilt
    raw = Path("seeds") / "raw" / "pro_2024__synthetic.csv"
    _drop_last_rows(project / raw, DROPPED)
    build(project, warehouse)
    assert _rows_per_wave(warehouse) == first
    assert _figures(warehouse) == figures

    # rebuilt: the wave's rows are replaced, never duplicated, and equal a fresh build
    build(project, warehouse, dbt_vars={"rebuild_waves": [2024]})
    # the same files built into an empty warehouse (a copy of the project with the same change)
    fresh_project, fresh = project_copy(parsed_project, tmp_path / "fresh")
    shutil.copy2(project / raw, fresh_project / raw)
    build(fresh_project, fresh)
    rebuilt = _rows_per_wave(warehouse)
    assert rebuilt == _rows_per_wave(fresh)
    pro = {t: {(s, w): n for s, w, n in rows} for t, rows in rebuilt.items()}
    before = {t: {(s, w): n for s, w, n in rows} for t, rows in first.items()}
    landed = "staging.stg_landed__respondents"
    assert pro[landed][("pro", 2024)] == before[landed][("pro", 2024)] - DROPPED
    assert pro[landed][("public", 2024)] == before[landed][("public", 2024)]
    assert _figures(warehouse) == _figures(fresh)
    assert _figures(warehouse) != figures
    keys = query(warehouse, "select count(*) - count(distinct respondent_key) "
                            "from marts.dim_respondent")
    assert keys == [(0,)]


def test_build_computes_only_new_waves(built_copy, tmp_path):
    """A row marked between two builds survives the second one: the history is not recomputed
    (a table materialisation would rebuild it from the files)."""
    project, warehouse = project_copy(built_copy, tmp_path)  # a first build of the shipped files
    with duckdb.connect(str(warehouse)) as con:
        marked = con.execute("""
            update intermediate.int_responses_decoded set numeric_value = -1
            where column_name = 'impact_score' and respondent_key = (
                select min(respondent_key) from intermediate.int_responses_decoded
                where column_name = 'impact_score' and invalid_reason is null)
            returning respondent_key""").fetchall()
    assert len(marked) == 1
    build(project, warehouse, select=["int_responses_decoded", "fct_response"])
    assert query(warehouse, "select respondent_key from intermediate.int_responses_decoded "
                            "where numeric_value = -1") == marked
    # the views over it show the marked row too (fct_response holds accepted respondents)
    assert query(warehouse, "select respondent_key from intermediate.int_responses_harmonised "
                            "where numeric_value = -1") == marked


def test_tests_read_only_the_waves_of_the_run_when_told(built_copy, tmp_path):
    """With the run's waves (environment variable, what the orchestrator sets, or the var
    `test_waves`), tests of models incremental by wave read those waves only; without them (the
    default), every wave. The environment variable changes from run to run without making dbt
    re-parse the project."""
    project, warehouse = project_copy(built_copy, tmp_path)  # a first build of the shipped files
    with duckdb.connect(str(warehouse)) as con:  # a duplicate answer in the 2024 wave
        con.execute("""
            insert into intermediate.int_responses_decoded
            select * from intermediate.int_responses_decoded
            where invalid_reason is null and wave_year = 2024 and respondent_key in (
                select respondent_key from intermediate.int_respondents_accepted)
            limit 1""")
    args = ["test", "--select", "unique_hashed_fct_response_response_key"]
    dbt_in(project, warehouse, args, dbt_vars={"test_waves": [2025]}, capture=True)
    with pytest.raises(RuntimeError, match="unique_hashed_fct_response_response_key"):
        dbt_in(project, warehouse, args, capture=True)
    with pytest.raises(RuntimeError):
        dbt_in(project, warehouse, args, dbt_vars={"test_waves": [2024]}, capture=True)
    # by environment: the same outcomes, and the partial parse of the previous run is reused
    # (the vars above changed: dbt re-parses once, here)
    dbt_in(project, warehouse, ["parse"], capture=True)
    outcomes = {}
    for waves in ("2025", "2024", "2023,2024", ""):
        try:
            result = dbt_in(project, warehouse, args, capture=True,
                            env={"OBSERVATOIRE_TEST_WAVES": waves})
            outcomes[waves] = "pass"
            output = result.stdout
        except RuntimeError as error:
            outcomes[waves] = "fail"
            output = str(error)
        assert "Unable to do partial parsing" not in output, waves
    assert outcomes == {"2025": "pass", "2024": "fail", "2023,2024": "fail", "": "fail"}


def test_provenance_check_reads_every_wave_whatever_the_run_tests(built_copy, tmp_path):
    """A publication landed with a new wave may pin an earlier wave's figures: the provenance
    check reads every wave even when the run's tests read the new wave only."""
    project, warehouse = project_copy(built_copy, tmp_path)
    with duckdb.connect(str(warehouse)) as con:  # a 2024 figure whose provenance is now stale
        con.execute("""
            update marts.fct_indicator set provenance = provenance || '_stale'
            where wave_year = 2024 and indicator_id = (
                select min(indicator_id) from marts.fct_indicator where wave_year = 2024)""")
    check = "fct_indicator_provenance_is_stale__rebuild_its_waves_with_rebuild_waves"
    with pytest.raises(RuntimeError, match=check):
        dbt_in(project, warehouse, ["test", "--select", check], capture=True,
               env={"OBSERVATOIRE_TEST_WAVES": "2025"})
    # the same run's other tests of fct_indicator do read 2025 only
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.fct_indicator set base_n = null where wave_year = 2024 "
                    "and indicator_id = (select min(indicator_id) from marts.fct_indicator "
                    "where wave_year = 2024)")
    dbt_in(project, warehouse, ["test", "--select", "not_null_fct_indicator_base_n"],
           capture=True, env={"OBSERVATOIRE_TEST_WAVES": "2025"})
