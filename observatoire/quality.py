"""Response quality with Great Expectations: suites per wave, results in the warehouse.

dbt computes the quality findings and the quarantine (int_respondent_checks,
int_respondent_quality) because figures must exclude quarantined respondents in the same
graph. Great Expectations then checks, per wave and survey, independently of that SQL:

* `raw_file`    — the landed file: columns as the codebook says, not empty, ids present and
                  unique, timestamps well-formed;
* `responses`   — codes inside the codebook, scale answers inside their range, routing kept,
                  item non-response per question under its threshold;
* `respondents` — duplicates (id, answer fingerprint), required answers, speeders,
                  straight-liners;
* `weights`     — positive, finite, summing to the sample size;
* `indicators`  — shares within [0, 1], bases of at least one respondent, every published
                  figure reproduced or a listed exception.

Each suite runs on two batches: `landed` (every row, to show what was found) and `accepted`
(after quarantine). A *blocking* expectation (quality_rules seed) that fails on the accepted
batch means the quarantine let bad data through: the wave fails and nothing is published.
Flag-only checks (speeders, straight-liners by default) never block.

The answer-level suite (one row per answer cell: the large table) holds only row-wise
expectations; it is read from DuckDB in record batches of `chunk_rows` rows and validated batch
by batch, so its memory stays bounded whatever the wave size. Suites with table-level
expectations (uniqueness, sum of weights, row count, column set) are validated on the whole
table at once, read narrow (only the columns an expectation uses): their tables have one row
per respondent, question or indicator. Results do not depend on the batch size (tested).
Results go to `quality.dq_validation_result`.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from observatoire import spec

TS_REGEX = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?"
CHUNK_ROWS = 250_000


@dataclass
class QualityReport:
    """Outcome of validating one wave (all surveys)."""

    wave_year: int
    run_id: str
    results: list[dict] = field(default_factory=list)
    quarantined: int = 0  # respondents of the wave kept out of figures (all surveys)

    @property
    def blocking_failures(self) -> list[str]:
        return [f"{r['survey']}/{r['suite']}/{r['expectation_type']}"
                f"{'(' + r['column'] + ')' if r['column'] else ''}"
                for r in self.results
                if r["is_blocking"] and r["batch"] == "accepted" and not r["success"]]

    @property
    def success(self) -> bool:
        return not self.blocking_failures


def _rules(project_root: Path) -> dict[str, dict]:
    with open(project_root / "seeds" / "quality_rules.csv", encoding="utf-8") as handle:
        return {r["check_id"]: r for r in csv.DictReader(handle)}


def _expectations(suite: str, columns: list[str] | None, n_weights: float | None,
                  rules: dict[str, dict]) -> list[tuple[str | None, object]]:
    """(check id or None, expectation) of a suite; check ids link to quality_rules."""
    import great_expectations as gx

    e = gx.expectations
    nonresponse = float(rules.get("item_nonresponse", {}).get("threshold") or 0.25)
    if suite == "raw_file":
        return [
            ("invalid_code", e.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True)),
            (None, e.ExpectTableRowCountToBeBetween(min_value=1)),
            ("duplicate_id", e.ExpectColumnValuesToNotBeNull(column="respondent_id")),
            ("duplicate_id", e.ExpectColumnValuesToBeUnique(column="respondent_id")),
            (None, e.ExpectColumnValuesToMatchRegex(column="started_at", regex=TS_REGEX)),
            (None, e.ExpectColumnValuesToMatchRegex(column="ended_at", regex=TS_REGEX)),
        ]
    if suite == "responses":
        return [
            ("invalid_code", e.ExpectColumnValuesToBeNull(column="code_error")),
            ("out_of_range", e.ExpectColumnValuesToBeBetween(
                column="scale_position", min_value=0, max_value=1)),
            ("routing", e.ExpectColumnValuesToBeInSet(column="is_routed", value_set=[True])),
        ]
    if suite == "item_nonresponse":
        return [("item_nonresponse", e.ExpectColumnValuesToBeBetween(
            column="nonresponse_rate", min_value=0, max_value=nonresponse))]
    if suite == "respondents":
        out: list[tuple[str | None, object]] = [
            (None, e.ExpectColumnValuesToBeUnique(column="respondent_key")),
            (None, e.ExpectColumnValuesToNotBeNull(column="respondent_key")),
        ]
        for check in ("duplicate_id", "duplicate_answers", "missing_required", "speeder",
                      "straightliner"):
            out.append((check, e.ExpectColumnValuesToBeInSet(column=f"is_{check}",
                                                             value_set=[False])))
        return out
    if suite == "weights":
        return [
            ("weights", e.ExpectColumnValuesToNotBeNull(column="weight")),
            ("weights", e.ExpectColumnValuesToBeBetween(column="weight", min_value=0,
                                                        strict_min=True, max_value=1e6)),
            ("weights", e.ExpectColumnSumToBeBetween(column="weight",
                                                     min_value=n_weights - 1e-6,
                                                     max_value=n_weights + 1e-6)),
        ]
    if suite == "indicators":
        return [
            ("indicators", e.ExpectColumnValuesToBeBetween(column="share_value", min_value=0,
                                                           max_value=1)),
            ("indicators", e.ExpectColumnValuesToBeBetween(column="base_n", min_value=1)),
        ]
    if suite == "reconciliation":
        return [("reconciliation", e.ExpectColumnValuesToBeInSet(
            column="status", value_set=["reproduced", "exception"]))]
    raise ValueError(f"unknown suite {suite}")


SQL = {
    "responses": """
        select d.respondent_key, d.question_id, d.column_name, d.raw_value,
            case when d.invalid_reason in ('invalid_code', 'unknown_column', 'not_a_number')
                then d.invalid_reason end as code_error,
            case when d.question_type = 'scale' and d.numeric_value is not null
                then (d.numeric_value - s.scale_min) / nullif(s.scale_max - s.scale_min, 0)
            end as scale_position,
            r.respondent_key is null as is_routed
        from intermediate.int_responses_decoded d
        left join (
            select survey, wave_year, question_id,
                min(try_cast(option_code as double)) as scale_min,
                max(try_cast(option_code as double)) as scale_max
            from staging.stg_landed__codebooks where question_type = 'scale' group by all
        ) s using (survey, wave_year, question_id)
        left join (
            select distinct survey, wave_year, respondent_key, column_name
            from intermediate.int_respondent_checks where check_id = 'routing'
        ) r using (survey, wave_year, respondent_key, column_name)
        where d.survey = ? and d.wave_year = ? {accepted}
    """,
    "item_nonresponse": """
        with asked as (
            select q.question_id, count(*) as asked_n
            from intermediate.int_respondent_quality rq
            cross join (select distinct question_id, universe from staging.stg_landed__codebooks
                        where survey = ? and wave_year = ? and universe = '') q
            where rq.survey = ? and rq.wave_year = ? {accepted_rq}
            group by 1
        ),
        answered as (
            select question_id, count(distinct respondent_key) as answered_n
            from intermediate.int_responses_decoded d
            where survey = ? and wave_year = ? and invalid_reason is null {accepted}
            group by 1
        )
        select asked.question_id, asked_n, coalesce(answered_n, 0) as answered_n,
            1 - coalesce(answered_n, 0) / asked_n as nonresponse_rate
        from asked left join answered using (question_id)
    """,
    "respondents": """
        select respondent_key, is_duplicate_id, is_duplicate_answers, is_missing_required,
            is_speeder, is_straightliner, is_quarantined
        from intermediate.int_respondent_quality rq
        where survey = ? and wave_year = ? {accepted_rq}
    """,
    "weights": """
        select respondent_key, weight from intermediate.int_respondent_weights
        where survey = ? and wave_year = ?
    """,
    "indicators": """
        select indicator_id, segment_type, segment_value, base_n,
            case when unit = 'share' then value end as share_value
        from marts.fct_indicator where survey = ? and wave_year = ?
    """,
    "reconciliation": """
        select indicator_id, segment_type, segment_value, status
        from reports.rpt_published_reconciliation where survey = ? and wave_year = ?
    """,
}
ACCEPTED = ("and d.respondent_key in (select respondent_key from "
            "intermediate.int_respondents_accepted)")
ACCEPTED_RQ = "and not rq.is_quarantined"


def _params(suite: str, survey: str, wave: int) -> list:
    return [survey, wave] * (3 if suite == "item_nonresponse" else 1)


def _merge(chunks: list[list[dict]]) -> list[dict]:
    """Results of the same suite over several chunks: success if all, counts added."""
    merged = []
    for parts in zip(*chunks, strict=True):
        row = dict(parts[0])
        row["success"] = all(p["success"] for p in parts)
        counts = [p["unexpected_count"] for p in parts if p["unexpected_count"] is not None]
        row["unexpected_count"] = sum(counts) if counts else None
        row["element_count"] = sum(p["element_count"] for p in parts)
        if len(parts) > 1:
            row["observed_value"] = f"{len(parts)} chunks; last: {parts[-1]['observed_value']}"
        merged.append(row)
    return merged


# Expectations decided row by row: their results over batches add up (success if every batch
# succeeds, unexpected counts summed). The others (uniqueness, sums, row counts, column sets)
# need the whole table at once.
ROW_WISE = {"expect_column_values_to_be_null", "expect_column_values_to_not_be_null",
            "expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
            "expect_column_values_to_match_regex"}


def _narrow(sql: str, columns) -> str:
    """`sql` restricted to `columns` (DuckDB reads only those)."""
    quoted = ", ".join(f'"{name}"' for name in columns)
    return f"select {quoted} from ({sql})"


def _whole_frame(con, sql: str, params: list, expectations: list) -> pd.DataFrame:
    """The whole result of `sql` for table-level expectations, narrow: only the columns some
    expectation reads are fetched; the others (needed by a column-set expectation for their
    names only) are empty categoricals, one byte per row. Memory grows with the rows of the
    table (respondents, questions, indicators), never with its width."""
    names = [c[0] for c in con.execute(f"select * from ({sql}) limit 0", params).description]
    used = [n for n in names if any(getattr(e, "column", None) == n for e in expectations)]
    if used:
        frame = con.execute(_narrow(sql, used), params).df()
    else:
        rows = con.execute(f"select count(*) from ({sql})", params).fetchone()[0]
        frame = pd.DataFrame(index=pd.RangeIndex(rows))
    empty = pd.Categorical.from_codes(np.full(len(frame), -1, dtype=np.int8), categories=[])
    for name in names:
        if name not in frame.columns:
            frame[name] = empty
    return frame[names]


def _validate(context, con, suite: str, label: str, sql: str, params: list,
              expectations: list, chunk_rows: int) -> list[dict]:
    """Results of a suite on the rows of `sql`. A suite of row-wise expectations (answers: the
    large tables) is validated batch by batch (`chunk_rows` rows read from DuckDB at a time,
    results merged); any other suite on the whole table at once, read narrow."""
    from observatoire.gx_runner import run_suite

    if any(e.expectation_type not in ROW_WISE for e in expectations):
        return run_suite(context, suite, _whole_frame(con, sql, params, expectations),
                         expectations, label)
    # row-wise expectations read only their own columns: the batches are read narrow too
    # (the answer table's identifiers, strings, were converted to pandas for nothing: ~40 % of
    # the validation time of a 100,000-respondent wave; docs/benchmarks.md)
    used = dict.fromkeys(e.column for e in expectations)
    reader = con.execute(_narrow(sql, used), params).fetch_record_batch(chunk_rows)
    chunks = []
    for i, batch in enumerate(reader):
        frame = batch.to_pandas()
        chunks.append(run_suite(context, suite, frame, expectations,
                                label if i == 0 else f"{label}_part{i + 1}"))
    if not chunks:  # empty table: validate an empty frame with the right columns
        frame = con.execute(f"select * from ({sql}) limit 0", params).df()
        chunks.append(run_suite(context, suite, frame, expectations, label))
    return _merge(chunks)


def validate_wave(warehouse: Path, wave_year: int, *, project_root: Path = spec.PROJECT_ROOT,
                  landing_root: Path | None = None, chunk_rows: int = CHUNK_ROWS,
                  write_results: bool = True, log=print) -> QualityReport:
    """Run every suite on every survey of a wave; store results in the warehouse."""
    from observatoire.gx_runner import get_context

    rules = _rules(project_root)
    landing_root = landing_root or project_root / "seeds"
    context = get_context(project_root)
    report = QualityReport(wave_year, uuid.uuid4().hex[:12])
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report.quarantined = con.execute(
            "select count(*) from intermediate.int_respondent_quality "
            "where wave_year = ? and is_quarantined", [wave_year]).fetchone()[0]
        surveys = con.execute(
            "select survey, source_file, count(*) from staging.stg_landed__respondents "
            "where wave_year = ? group by all order by 1", [wave_year]).fetchall()
        for survey, source_file, _ in surveys:
            codebook = spec.load_codebook(landing_root / "codebooks" / f"{survey}_{wave_year}.csv")
            columns = ["respondent_id", "source_row", "started_at", "ended_at",
                       *codebook.columns()]
            raw_path = landing_root / "raw" / source_file
            raw_sql = (f"select * from read_csv('{raw_path}', all_varchar = true, header = true,"
                       " union_by_name = false)")
            n_accepted = con.execute(
                "select count(*) from intermediate.int_respondents_accepted "
                "where survey = ? and wave_year = ?", [survey, wave_year]).fetchone()[0]
            plan = [("raw_file", "landed", raw_sql, [])]
            for suite in ("responses", "item_nonresponse", "respondents"):
                for batch in ("landed", "accepted"):
                    sql = SQL[suite].format(
                        accepted=ACCEPTED if batch == "accepted" else "",
                        accepted_rq=ACCEPTED_RQ if batch == "accepted" else "")
                    plan.append((suite, batch, sql, _params(suite, survey, wave_year)))
            for suite in ("weights", "indicators", "reconciliation"):
                plan.append((suite, "accepted", SQL[suite], [survey, wave_year]))
            for suite, batch, sql, params in plan:
                log(f"    GX {survey} {wave_year} {suite} ({batch})")
                pairs = _expectations(suite, columns, float(n_accepted), rules)
                results = _validate(context, con, f"{survey}__{suite}",
                                    f"{survey}_{wave_year}_{batch}", sql, params,
                                    [exp for _, exp in pairs], chunk_rows)
                for (check, _), row in zip(pairs, results, strict=True):
                    rule = rules.get(check or "", {})
                    blocking = (rule.get("is_blocking", "true").lower() == "true"
                                if rule else True)
                    report.results.append({
                        **row, "suite": suite, "gx_suite": row["suite"], "survey": survey,
                        "wave_year": wave_year, "batch": batch,
                        "check_id": check, "is_blocking": blocking,
                        "run_id": report.run_id, "run_at": run_at,
                    })
    if write_results:
        write_validation_results(warehouse, report)
    return report


RESULT_COLUMNS = ["run_id", "run_at", "wave_year", "survey", "suite", "batch", "expectation_type",
                  "column", "check_id", "is_blocking", "success", "observed_value",
                  "unexpected_count", "element_count", "kwargs_json"]


def write_validation_results(warehouse: Path, report: QualityReport) -> None:
    """Replace the wave's rows of quality.dq_validation_result with this run's results."""
    frame = pd.DataFrame(report.results, columns=RESULT_COLUMNS)
    frame["unexpected_count"] = frame["unexpected_count"].astype("Int64")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists quality")
        con.execute("create table if not exists quality.dq_validation_result as "
                    "select * from frame limit 0")
        con.execute("delete from quality.dq_validation_result where wave_year = ?",
                    [report.wave_year])
        con.execute("insert into quality.dq_validation_result by name select * from frame")
