"""Response quality: injected bad responses are caught by GX, quarantined or flagged, and
every landed row is accounted for; the auditor's report renders offline."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pandas as pd
import pytest

from observatoire.quality import validation as quality
from observatoire.quality.data_docs import find_external_urls
from observatoire.report import auditor as report
from observatoire.spec import PROJECT_ROOT
from tests.chromium import run_chromium
from tests.conftest import build, copy_project, project_copy, query

RAW = "seeds/raw/pro_2024__synthetic.csv"
CODEBOOK = PROJECT_ROOT / "seeds" / "codebooks" / "pro_2024.csv"


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
    # a required question: its invalid code must not also count as unanswered
    frame.loc[pick(frame["sector"] != "", "invalid_code"), "sector"] = "7"
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
def injected(parsed_project, tmp_path_factory):
    project, warehouse = project_copy(parsed_project, tmp_path_factory.mktemp("injected"))
    rows = _inject(project)
    build(project, warehouse)
    result = quality.validate_wave(warehouse, 2024, project_root=project, log=lambda *_: None)
    return {"project": project, "warehouse": warehouse, "rows": rows, "report": result}


def _gx(report, suite, expectation, batch="landed", survey="pro", column=None):
    return next(r for r in report.results if r["suite"] == suite and r["column"] == column
                and r["expectation_type"] == expectation and r["batch"] == batch
                and r["survey"] == survey)


# GX recomputes each rule from the raw file and the codebook: on the landed batch it finds
# exactly the injected rows (counted in respondents), and they do not block there.
@pytest.mark.parametrize(("suite", "expectation", "column", "unexpected"), [
    ("responses", "expect_answers_in_codebook", None, 1),         # sector = 7
    ("responses", "expect_scale_answers_in_range", None, 1),      # impact_score = 14
    ("responses", "expect_answers_routed_by_universe", None, 1),  # satisfaction by a non-user
    ("respondents", "expect_respondent_ids_unique", None, 1),     # the repeated row
    ("respondents", "expect_answer_patterns_unique", None, 1),    # the same repeated row
    ("raw_file", "expect_column_values_to_be_unique", "respondent_id", 2),  # both rows
])
def test_landed_checks_find_the_injected_rows(injected, suite, expectation, column, unexpected):
    result = _gx(injected["report"], suite, expectation, column=column)
    assert (result["success"], result["unexpected_count"]) == (False, unexpected)
    assert result["is_blocking"] is False
    accepted = _gx(injected["report"], suite, expectation, batch="accepted", column=column) \
        if suite != "raw_file" else None
    assert accepted is None or (accepted["success"], accepted["unexpected_count"]) == (True, 0)


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


def _codebook_options(question: str) -> list[tuple[str, str]]:
    with open(CODEBOOK, newline="", encoding="utf-8") as handle:
        return [(row["option_code"], row["option_key"]) for row in csv.DictReader(handle)
                if row["question_id"] == question]


def _findings(injected, row: int) -> list[tuple]:
    return query(injected["warehouse"], """
        select check_id, question_id, column_name, raw_value, reason, allowed
        from marts.dq_quarantine
        where wave_year = 2024 and survey = 'pro' and source_row = ?""", [row])


def test_invalid_code_is_one_finding_naming_the_allowed_codes(injected):
    options = _codebook_options("sector")
    assert len(options) == 3
    allowed = "codes " + ", ".join(f"{code} ({key})" for code, key in
                                   sorted(options, key=lambda o: int(o[0])))
    assert _findings(injected, injected["rows"]["invalid_code"]) == [
        ("invalid_code", "sector", "sector", "7",
         'code "7" of sector is not in the codebook', allowed)]


def test_out_of_range_is_one_finding_naming_the_range(injected):
    codes = sorted(int(code) for code, _ in _codebook_options("impact_score"))
    assert _findings(injected, injected["rows"]["out_of_range"]) == [
        ("out_of_range", "impact_score", "impact_score", "14",
         'value "14" of impact_score is outside the scale',
         f"a value from {codes[0]} to {codes[-1]}")]


def test_routing_finding_names_the_routing_condition(injected):
    assert _findings(injected, injected["rows"]["routing"]) == [
        ("routing", "satisfaction", "satisfaction", "1",
         'answered although the routing condition "ai_tried=yes" does not hold',
         "answered only when ai_tried=yes")]


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
    # GX's reconciliation (recomputed from fct_indicator and the published figures file) finds
    # exactly the figures dbt's reconciliation model reports as not reproduced, and blocks.
    not_reproduced = query(injected["warehouse"], """
        select count(*) from reports.rpt_published_reconciliation
        where wave_year = 2024 and survey = 'pro' and status = 'not_reproduced'""")[0][0]
    assert not_reproduced > 0
    failing = [(r["survey"], r["suite"], r["batch"], r["expectation_type"],
                r["unexpected_count"]) for r in injected["report"].results
               if r["is_blocking"] and not r["success"]]
    assert failing == [("pro", "reconciliation", "accepted",
                        "expect_published_figures_reproduced", not_reproduced)]
    assert not injected["report"].success


def test_shipped_data_passes_every_blocking_check(shipped_warehouse, tmp_path):
    project = copy_project(tmp_path / "project")
    result = quality.validate_wave(shipped_warehouse, 2024, project_root=project,
                                   write_results=False, log=lambda *_: None)
    assert result.success, result.blocking_failures
    assert {r["survey"] for r in result.results} == {"pro", "public"}
    # the public poll is weighted: its weights reproduce every population margin cell
    margins = _gx(result, "weights", "expect_weights_to_reproduce_margins", batch="accepted",
                  survey="public")
    cells = query(shipped_warehouse, "select count(*) from config.population_margins "
                  "where survey = 'public'")[0][0]
    assert (margins["success"], margins["unexpected_count"], margins["element_count"]) == (
        True, 0, cells)


def test_report_renders_offline(injected, tmp_path):
    out = tmp_path / "report"
    index = report.build_report(injected["warehouse"], out, project_root=injected["project"])
    page = out / "wave_2024.html"
    assert index.is_file()
    assert find_external_urls(out) == []
    dom = run_chromium(tmp_path, page.as_uri(), "--dump-dom").stdout
    assert "Données synthétiques / Synthetic data." in dom
    # the quarantine findings, with what each rule allowed
    assert "Quarantine — 5 constats / findings" in dom
    assert "a value from 0 to 10" in dom and "answered only when ai_tried=yes" in dom
    # 795 landed rows (794 + the repeated one), 4 quarantined (invalid code, out of range,
    # routing, repeated id), 791 accepted: the cards as rendered
    for card in ("<b>795</b>reçus / landed", "<b>791</b>acceptés / accepted",
                 "<b>4</b>en quarantaine / quarantined", "<b>✔</b>reçus = acceptés + quarantaine"):
        assert card in dom
    pro = [r for r in injected["report"].results if r["survey"] == "pro"]
    passed = sum(r["success"] for r in pro)
    flagged = sum(not r["success"] and not r["is_blocking"] for r in pro)
    assert (f"Great Expectations — {len(pro)} contrôles / checks: {passed} réussis / passed, "
            f"{flagged} signalés / flagged, {len(pro) - passed - flagged} en échec / failed"
            in dom)
    reproduced, total = query(injected["warehouse"], """
        select count(*) filter (status = 'reproduced'), count(*)
        from reports.rpt_published_reconciliation where wave_year = 2024 and survey = 'pro'""")[0]
    assert f"Published figures — {reproduced} of {total} reproduced" in dom
    # every GX row links into the offline Data Docs, and each link resolves to a file
    links = re.findall(r'href="(data_docs/validations/[^"]+)"', dom)
    assert len(links) == len(injected["report"].results)  # one per GX row, both surveys
    assert all((out / link).is_file() for link in links)


def test_results_do_not_depend_on_the_batch_size(injected):
    """The row-wise suite (`responses`) is validated in batches of respondents: in batches of
    100 (eight for the 795 landed rows, seventeen for the public poll), every expectation
    must give the same outcome and counts as in one batch."""
    small = quality.validate_wave(injected["warehouse"], 2024, project_root=injected["project"],
                                  chunk_rows=100, write_results=False, log=lambda *_: None)

    def outcome(report):
        return {(r["survey"], r["suite"], r["batch"], r["expectation_type"], r["column"]):
                (r["success"], r["unexpected_count"]) for r in report.results}

    default = outcome(injected["report"])
    assert outcome(small) == default
    assert default[("pro", "responses", "landed", "expect_answers_in_codebook", None)] == (
        False, 1)
    chunked = [r for r in small.results if r["suite"] == "responses" and r["survey"] == "pro"
               and r["batch"] == "landed"]
    assert all(r["observed_value"].startswith("8 chunks;") for r in chunked)
