"""Response quality: injected bad responses are caught by GX, quarantined or flagged, and
every landed row is accounted for; the auditor's report renders offline."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pandas as pd
import pytest

from observatoire import quality, report
from observatoire.gx_runner import find_external_urls
from tests.conftest import build, copy_project, query
from tests.test_gx_runner import _chromium

RAW = "seeds/raw/pro_2024__synthetic.csv"


def _inject(project) -> dict[str, int]:
    """Write one bad response of each kind into the copied 2024 pro file; return the
    source rows (1-based data rows) of each injected case."""
    path = project / RAW
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows: dict[str, int] = {}

    def pick(mask, name):
        index = frame.index[mask & ~frame.index.isin([r - 1 for r in rows.values()])][0]
        rows[name] = int(index) + 1
        return index

    users = frame["ai_frequency"].isin(["1", "2", "3"])
    grid = ["benefit_creativity", "benefit_efficiency", "benefit_automation",
            "benefit_new_possibilities"]
    frame.loc[pick(frame["training_taken"] != "", "invalid_code"), "training_taken"] = "7"
    frame.loc[pick(frame["impact_score"] != "", "out_of_range"), "impact_score"] = "14"
    frame.loc[pick((frame["ai_tried"] == "2") & (frame["satisfaction"] == ""), "routing"),
              "satisfaction"] = "1"
    speeder = pick(frame["ended_at"] != "", "speeder")
    started = datetime.fromisoformat(frame.loc[speeder, "started_at"])
    frame.loc[speeder, "ended_at"] = (started + timedelta(seconds=20)).isoformat(sep=" ")
    varied = users & (frame[grid] != "").all(axis=1) & (frame[grid].nunique(axis=1) > 1)
    frame.loc[pick(varied, "straightliner"), grid] = "3"
    duplicate = frame.loc[[rows["straightliner"] - 2]].copy()  # an untouched respondent
    duplicate["source_row"] = str(len(frame) + 1)
    rows["duplicate_id"] = len(frame) + 1
    frame = pd.concat([frame, duplicate], ignore_index=True)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return rows


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    root = tmp_path_factory.mktemp("injected")
    project = copy_project(root / "project")
    rows = _inject(project)
    warehouse = build(project, root / "warehouse.duckdb")
    result = quality.validate_wave(warehouse, 2024, project_root=project, log=lambda *_: None)
    return {"project": project, "warehouse": warehouse, "rows": rows, "report": result}


def _gx(report, suite, column, batch="landed", survey="pro"):
    return next(r for r in report.results if r["suite"] == suite and r["column"] == column
                and r["batch"] == batch and r["survey"] == survey)


@pytest.mark.parametrize(("suite", "column", "expectation", "unexpected"), [
    ("responses", "code_error", "be_null", 1),        # training_taken = 7
    ("responses", "scale_position", "be_between", 1),  # impact_score = 14
    ("responses", "is_routed", "be_in_set", 1),       # satisfaction answered by a non-user
    ("respondents", "is_duplicate_id", "be_in_set", 1),
    ("raw_file", "respondent_id", "be_unique", 2),    # GX counts both rows sharing the id
])
def test_landed_checks_fail_on_injected_rows(injected, suite, column, expectation, unexpected):
    results = [r for r in injected["report"].results if r["suite"] == suite
               and r["column"] == column and r["batch"] == "landed" and r["survey"] == "pro"
               and r["expectation_type"].endswith(expectation)]
    assert results and not any(r["success"] for r in results)
    assert max(r["unexpected_count"] for r in results) == unexpected


def test_blocking_failures_are_quarantined_with_file_and_row(injected):
    quarantined = query(injected["warehouse"], """
        select check_id, source_file, source_row from marts.dq_quarantine
        where wave_year = 2024 and survey = 'pro'""")
    by_check = {}
    for check, source_file, row in quarantined:
        assert source_file == "pro_2024__synthetic.csv"
        by_check.setdefault(check, set()).add(row)
    rows = injected["rows"]
    for check in ("invalid_code", "out_of_range", "routing", "duplicate_id"):
        assert by_check[check] == {rows[check]}, check
    # the duplicated row also repeats every answer of an earlier respondent
    assert by_check["duplicate_answers"] == {rows["duplicate_id"]}


def test_speeders_and_straightliners_are_flagged_and_kept(injected):
    rows = injected["rows"]
    flags = query(injected["warehouse"], """
        select q.source_row, r.is_speeder, r.is_straightliner, r.is_quarantined
        from marts.dim_respondent r
        join intermediate.int_respondent_quality q using (respondent_key)
        where q.source_row in (?, ?) and q.survey = 'pro' and q.wave_year = 2024""",
                  [rows["speeder"], rows["straightliner"]])
    state = {row: (speeder, straight, quarantined) for row, speeder, straight, quarantined in flags}
    assert state[rows["speeder"]][0] and not state[rows["speeder"]][2]
    assert state[rows["straightliner"]][1] and not state[rows["straightliner"]][2]
    assert not _gx(injected["report"], "respondents", "is_speeder")["success"]


def test_counts_reconcile_and_figures_use_accepted_only(injected):
    landed, accepted, quarantined = query(injected["warehouse"], """
        select landed_n, respondents_n, quarantined_n from marts.dim_wave
        where wave_year = 2024 and survey = 'pro'""")[0]
    assert landed == 795
    assert quarantined == 4 == injected["report"].quarantined
    assert accepted + quarantined == landed
    assert query(injected["warehouse"], """
        select value from marts.fct_indicator where wave_year = 2024 and survey = 'pro'
          and indicator_id = 'respondents' and segment_type = 'all'""") == [(accepted,)]


def test_accepted_data_passes_every_blocking_response_check(injected):
    # Quarantine removed the bad rows, so every response and respondent check passes on the
    # accepted batch. Removing 4 respondents moves published figures off their printed values:
    # the reconciliation check (blocking) catches that, and the wave would not be published.
    assert injected["report"].blocking_failures == [
        "pro/reconciliation/expect_column_values_to_be_in_set(status)"]
    assert not injected["report"].success


def test_non_blocking_rule_lets_bad_rows_through_and_gx_blocks(tmp_path):
    """With invalid codes configured as flag-only, the bad row is kept, and the blocking GX
    expectation on accepted data fails: the wave must not be published."""
    project = copy_project(tmp_path / "project")
    _inject(project)
    rules = project / "seeds" / "quality_rules.csv"
    rules.write_text(rules.read_text().replace("invalid_code,response,true",
                                               "invalid_code,response,false"))
    warehouse = build(project, tmp_path / "warehouse.duckdb")
    result = quality.validate_wave(warehouse, 2024, project_root=project, log=lambda *_: None)
    codes = _gx(result, "responses", "code_error", batch="accepted")
    assert not codes["success"] and codes["unexpected_count"] == 1


def test_shipped_data_passes_every_blocking_check(shipped_warehouse, tmp_path):
    project = copy_project(tmp_path / "project")
    result = quality.validate_wave(shipped_warehouse, 2024, project_root=project,
                                   write_results=False, log=lambda *_: None)
    assert result.success, result.blocking_failures
    assert {r["survey"] for r in result.results} == {"pro", "public"}


def test_report_renders_offline(injected, tmp_path):
    out = tmp_path / "report"
    index = report.build_report(injected["warehouse"], out, project_root=injected["project"])
    page = out / "wave_2024.html"
    text = page.read_text(encoding="utf-8")
    assert index.is_file() and "Synthetic data" in text and "data_docs/" in text
    assert find_external_urls(out) == []
    shot = tmp_path / "wave.png"
    result = _chromium(tmp_path, page.as_uri(), f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 20_000, result.stderr[-2000:]


def test_results_do_not_depend_on_the_batch_size(injected):
    """Small batches split every table (the two rows of the duplicated id fall in different
    batches; the public poll's 1,619 weights must sum to 1,619): every expectation must give
    the same outcome and counts as with the default batches."""
    # the duplicated respondent's first row ends the first batch; its copy is in a later one
    first_use = injected["rows"]["straightliner"] - 1
    small = quality.validate_wave(injected["warehouse"], 2024, project_root=injected["project"],
                                  chunk_rows=max(first_use, 400), write_results=False,
                                  log=lambda *_: None)

    def outcome(report):
        return {(r["survey"], r["suite"], r["batch"], r["expectation_type"], r["column"]):
                (r["success"], r["unexpected_count"]) for r in report.results}

    default = outcome(injected["report"])
    assert outcome(small) == default
    assert default[("pro", "raw_file", "landed", "expect_column_values_to_be_unique",
                    "respondent_id")] == (False, 2)
    assert default[("public", "weights", "accepted", "expect_column_sum_to_be_between",
                    "weight")][0] is True
