"""A defective respondent that dbt misses is stopped by Great Expectations alone.

The dbt check `routing` is switched off twice over in a copy of the project: its rule is made
flag-only in the `quality_rules` seed, and its SQL finding is suppressed (the copy's
`int_respondent_checks` leaves `broken_routing` out of the findings it stacks). A non-user
who rated the benefits of AI (a question asked only when `ai_tried=yes`) then reaches the
accepted data with no flag. GX recomputes routing from the raw answers and the codebook's
universe conditions: the refresh must fail on that expectation only, stop before publish,
leave the published snapshot untouched and name suite, wave, expectation and unexpected
count in its error.
"""

from __future__ import annotations

import pandas as pd
from dagster import DagsterEventType, DagsterInstance

from observatoire.publish import snapshot as publisher
from orchestration.publish import REPORT_KEY, SNAPSHOT_KEY
from orchestration.quality_checks import GX_CHECK_KEY
from orchestration.runner import refresh
from tests.conftest import build, project_copy, query
from tests.orchestration_support import published_state, settings_in

RAW = "seeds/raw/pro_2024__synthetic.csv"
CHECKS_MODEL = "models/intermediate/int_respondent_checks.sql"
SUPPRESSED = " 'broken_routing',"  # in the list of findings stacked by union_all_ctes


def _switch_routing_off(project) -> None:
    rules = project / "seeds" / "quality_rules.csv"
    text = rules.read_text(encoding="utf-8")
    assert "routing,response,true," in text
    rules.write_text(text.replace("routing,response,true,", "routing,response,false,"),
                     encoding="utf-8")
    model = project / CHECKS_MODEL
    sql = model.read_text(encoding="utf-8")
    assert sql.count(SUPPRESSED) == 1
    model.write_text(sql.replace(SUPPRESSED, ""), encoding="utf-8")


def _inject_routing_defect(project) -> tuple[str, int]:
    """A respondent who never tried AI answers `benefit_creativity` (universe `ai_tried=yes`).
    Returns the respondent id and source row."""
    path = project / RAW
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    index = frame.index[(frame["ai_tried"] == "2") & (frame["benefit_creativity"] == "")][0]
    frame.loc[index, "benefit_creativity"] = "3"
    frame.to_csv(path, index=False)
    return frame.loc[index, "respondent_id"], int(frame.loc[index, "source_row"])


def test_bad_row_dbt_misses_is_stopped_by_gx_alone(shipped_warehouse, parsed_project, tmp_path):
    project, warehouse = project_copy(parsed_project, tmp_path)  # settings_in keeps its seeds
    _switch_routing_off(project)
    respondent_id, source_row = _inject_routing_defect(project)
    settings = settings_in(tmp_path, warehouse=str(warehouse))
    # a snapshot published earlier, which the failed refresh must leave as it is
    publisher.publish(shipped_warehouse, settings.paths.published)
    before = published_state(settings.paths.published)
    build(project, warehouse)

    # dbt saw nothing: the defective respondent is accepted, with no routing finding
    accepted = query(settings.paths.warehouse, """
        select count(*) from intermediate.int_respondents_accepted a
        inner join staging.stg_landed__respondents r using (survey, wave_year, respondent_key)
        where a.survey = 'pro' and a.wave_year = 2024 and r.respondent_id = ?""",
                     [respondent_id])
    findings = query(settings.paths.warehouse, """
        select count(*) from intermediate.int_respondent_checks
        where survey = 'pro' and wave_year = 2024 and source_row = ? and check_id = 'routing'
        """, [source_row])
    assert accepted == [(1,)] and findings == [(0,)]

    # entered: Dagster's current state storage is this instance's, whichever Dagster test ran
    # before in this process (a sensor evaluation leaves its own set)
    with DagsterInstance.ephemeral() as instance:
        result = refresh(["2024"], instance=instance, settings=settings,
                         assets=[GX_CHECK_KEY.asset_key, SNAPSHOT_KEY, REPORT_KEY])
        runs = instance.get_records_for_run(
            result.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records

    assert not result.success
    gx_errors = [e for e in result.errors if e.startswith(GX_CHECK_KEY.name)]
    assert gx_errors == [
        f"{GX_CHECK_KEY.name}: blocking failures: 2024: suite responses (pro 2024, accepted): "
        "expect_answers_routed_by_universe unexpected 1 of 794; observed 1 respondents"]
    with_results = query(settings.paths.warehouse, """
        select suite, batch, expectation_type, unexpected_count from quality.dq_validation_result
        where wave_year = 2024 and is_blocking and not success""")
    assert with_results == [("responses", "accepted", "expect_answers_routed_by_universe", 1)]
    materialized = {r.event_log_entry.dagster_event.asset_key for r in runs}
    assert GX_CHECK_KEY.asset_key in materialized  # dbt ran; the check then stopped the run
    assert SNAPSHOT_KEY not in materialized and REPORT_KEY not in materialized
    assert published_state(settings.paths.published) == before


def test_identical_answer_patterns_are_found_column_by_column():
    """`duplicate_answers` of Great Expectations: a respondent whose every answer equals an
    earlier respondent's (ids aside, cells trimmed) is a finding when they answered at least
    `threshold` cells; one differing cell, or too few answers, is not."""
    from observatoire.quality.gx_runner import load_plugins

    findings = load_plugins().respondent_findings
    answers = {"q1": ["1", "1", " 1", "1", "", ""], "q2": ["2", "2", "2 ", "3", "", ""],
               "q3": ["a|b", "a|b", "a|b", "a|b", "", ""]}
    frame = pd.DataFrame({"respondent_id": [f"r{i}" for i in range(6)],
                          "source_row": [str(i + 2) for i in range(6)], **answers})
    found = findings(frame, "duplicate_answers", threshold=2)
    # rows 1 and 2 repeat row 0 (row 2 once trimmed); row 3 differs in q2; rows 4-5 are empty
    assert found.tolist() == [False, True, True, False, False, False]
    assert findings(frame, "duplicate_answers", threshold=0).tolist() == [
        False, True, True, False, False, True]
    # a value holding the old separator no longer makes two different rows look alike
    split = pd.DataFrame({"respondent_id": ["a", "b"], "source_row": ["2", "3"],
                          "q1": ["x\x1fy", "x"], "q2": ["z", "y\x1fz"]})
    assert findings(split, "duplicate_answers", threshold=1).tolist() == [False, False]
