"""Response quality with Great Expectations: suites per wave, results in the warehouse.

dbt computes the quality findings and the quarantine (int_respondent_checks,
int_respondent_quality) because figures must exclude quarantined respondents in the same
graph. Great Expectations then re-checks every wave *independently of that SQL*: it reads the
landed file itself and recomputes each rule from the raw answers and the configuration
(codebook, segments, margins, published figures) with the custom expectations of
`expectations/gx/plugins/observatoire_expectations.py`. dbt's output is used only to choose
the batch (which rows were accepted) and to get what is checked (weights, indicators).

Suites (configuration in `expectations/gx/expectations/`, shared by every survey and wave; the
wave-dependent bounds are suite parameters computed here at validation time):

* `raw_file`         — the landed file: columns as the codebook says, not empty, one row number
                       per row, every landed row accounted for in the warehouse (accepted or
                       quarantined); ids and timestamps shown;
* `responses`        — each answer a code of its question, scales within range, routing from the
                       universe conditions;
* `respondents`      — ids present and unique, no duplicated answer patterns above the
                       threshold, required questions answered;
* `item_nonresponse` — non-response per question under its threshold (flag-only by default);
* `weights`          — positive, summing to the sample size, reproducing the population margins
                       (joint margins included) of weighted waves within the raking tolerance;
* `indicators`       — shares within [0, 1], bases of at least one respondent;
* `reconciliation`   — every published figure reproduced or a listed exception.

Speeders and straight-liners (flag-only rules about response behaviour, not data validity) are
not re-checked here: dbt's flags and `rpt_quality_summary` report them.

Which failures block publication is configuration too (each expectation's `meta.blocks_on`):
on the **accepted** batch, every expectation of the respondent, weight, figure and
reconciliation suites blocks. A respondent rule made flag-only in `seeds/quality_rules.csv`
keeps its respondents on purpose: those respondents (dbt's findings for that rule) are
tolerated by the matching expectation, any *other* respondent breaking the rule still blocks;
an expectation without such tolerance (`item_nonresponse`) blocks only if its rule does. On the
**landed** batch only the file-level expectations block (codebook columns, not empty, unique
row numbers, nothing lost): respondent-level failures there are what the quarantine is for,
shown in the report and Data Docs.

Respondent suites are validated on one row per respondent (the raw file's columns); `responses`
holds row-wise expectations only and is validated in batches of `chunk_rows` respondents
(results merged), the others on the whole batch. Results go to `quality.dq_validation_result`.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from observatoire import spec
from observatoire.warehouse import reuse

CHUNK_ROWS = 250_000
ID_COLUMNS = ["respondent_id", "source_row", "started_at", "ended_at"]


@dataclass
class QualityReport:
    """Outcome of validating one wave (all surveys)."""

    wave_year: int
    run_id: str
    results: list[dict] = field(default_factory=list)
    quarantined: int = 0  # respondents of the wave kept out of figures (all surveys)

    @property
    def blocking_failures(self) -> list[str]:
        """Each failing blocking expectation, naming suite, survey, wave, batch, expectation
        and unexpected count."""
        return [f"suite {r['suite']} ({r['survey']} {r['wave_year']}, {r['batch']}): "
                f"{r['expectation_type']}{'(' + r['column'] + ')' if r['column'] else ''} "
                f"unexpected {r['unexpected_count'] if r['unexpected_count'] is not None else '-'}"
                f" of {r['element_count']}; observed {r['observed_value']}"
                for r in self.results if r["is_blocking"] and not r["success"]]

    @property
    def success(self) -> bool:
        return not self.blocking_failures


def _rules(project_root: Path) -> dict[str, dict]:
    with open(project_root / "seeds" / "quality_rules.csv", encoding="utf-8") as handle:
        return {r["check_id"]: r for r in csv.DictReader(handle)}


def _is_blocking(meta: dict, batch: str, rules: dict[str, dict]) -> bool:
    """Configured blocking (`meta.blocks_on`), softened by a flag-only rule unless the
    expectation tolerates that rule's flagged respondents."""
    if batch not in meta.get("blocks_on", []):
        return False
    rule = rules.get(meta.get("check_id") or "")
    if rule and rule.get("is_blocking", "true").lower() != "true":
        return bool(meta.get("tolerates_flags"))
    return True


def _threshold(rules: dict[str, dict], check: str, default: float) -> float:
    return float(rules.get(check, {}).get("threshold") or default)


def _is_weighted(seeds: Path, survey: str, wave: int) -> bool:
    return any(r["survey"] == survey and int(r["wave_year"]) == wave
               and r["is_weighted"].lower() == "true"
               for r in spec.read_csv_rows(seeds / "waves.csv"))


def _exceptions(seeds: Path, survey: str, wave: int) -> list[str]:
    path = seeds / "published_exceptions.csv"
    return [f"{r['indicator_id']}|{r['segment_type']}|{r['segment_value']}"
            for r in (spec.read_csv_rows(path) if path.is_file() else [])
            if r["survey"] == survey and int(r["wave_year"]) == wave]


def suite_parameters(*, survey: str, wave: int, project_root: Path, landing_root: Path,
                     rules: dict[str, dict], accounted_rows: int, accepted_n: int) -> dict:
    """The wave-dependent values the configured suites refer to as `$PARAMETER`s."""
    from observatoire.statistics.poll_weights import load_margins, raking_settings

    seeds = project_root / "seeds"
    codebook = landing_root / "codebooks" / f"{survey}_{wave}.csv"
    weighted = _is_weighted(seeds, survey, wave)
    return {
        "survey": survey,
        "codebook": str(codebook),
        "segments": str(seeds / "segments.csv"),
        "raw_columns": ID_COLUMNS + spec.load_codebook(codebook).columns(),
        "accounted_rows": accounted_rows,
        "duplicate_answers_threshold": _threshold(rules, "duplicate_answers", 20),
        "item_nonresponse_threshold": _threshold(rules, "item_nonresponse", 0.25),
        "weight_sum_min": accepted_n - 1e-6,
        "weight_sum_max": accepted_n + 1e-6,
        # the dbt project (and its raking settings) is always the package's
        "raking_tolerance": raking_settings()["tol"],
        "margins": load_margins(survey, seeds) if weighted else {},
        "published": str(landing_root / "published" / f"published_figures_{wave}.csv"),
        "published_exceptions": _exceptions(seeds, survey, wave),
    }


# The raw rows of a landed file, restricted (accepted batch) to the rows dbt accepted, with the
# flag-only findings dbt kept on purpose. Everything checked is recomputed from these cells.
RAW = "select * from read_csv(?, all_varchar = true, header = true, union_by_name = false)"
ACCEPTED_RAW = f"""
    with raw as ({RAW}),
    accepted as (
        select source_row from intermediate.int_respondents_accepted
        where survey = ? and wave_year = ? and source_file = ?
    ),
    tolerated as (
        select source_row, string_agg(distinct check_id, '|' order by check_id)
            as tolerated_checks
        from intermediate.int_respondent_checks
        where survey = ? and wave_year = ? and source_file = ? and list_contains(?, check_id)
        group by source_row
    )
    select raw.*, coalesce(tolerated.tolerated_checks, '') as tolerated_checks
    from raw
    inner join accepted on accepted.source_row = try_cast(raw.source_row as integer)
    left join tolerated on tolerated.source_row = accepted.source_row
    order by try_cast(raw.source_row as integer)
"""
WEIGHTS = f"""
    with raw as ({RAW}),
    weights as (
        select a.source_row, w.weight
        from intermediate.int_respondents_accepted a
        left join intermediate.int_respondent_weights w using (survey, wave_year, respondent_key)
        where a.survey = ? and a.wave_year = ? and a.source_file = ?
    )
    select raw.*, weights.weight
    from raw inner join weights on weights.source_row = try_cast(raw.source_row as integer)
    order by weights.source_row
"""
INDICATORS = """
    select indicator_id, segment_type, segment_value, base_n, value,
        case when unit = 'share' then value end as share_value
    from marts.fct_indicator where survey = ? and wave_year = ?
"""


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


# Suites decided row by row (one respondent at a time): their results over batches add up.
ROW_WISE_SUITES = {"responses"}


def _validate(context, con, suite: str, label: str, sql: str, params: list,
              parameters: dict, chunk_rows: int) -> list[dict]:
    """Results of a suite on the rows of `sql`: row-wise suites batch by batch (`chunk_rows`
    rows read from DuckDB at a time, results merged), the others on the whole batch."""
    from observatoire.quality.gx_runner import run_suite

    if suite not in ROW_WISE_SUITES:
        return run_suite(context, suite, con.execute(sql, params).df(), label,
                         parameters=parameters)
    reader = con.execute(sql, params).fetch_record_batch(chunk_rows)
    chunks = [run_suite(context, suite, batch.to_pandas(), label if i == 0
                        else f"{label}_part{i + 1}", parameters=parameters)
              for i, batch in enumerate(reader)]
    if not chunks:  # empty batch: validate an empty frame with the right columns
        chunks.append(run_suite(context, suite, con.execute(f"select * from ({sql}) limit 0",
                                                            params).df(),
                                label, parameters=parameters))
    return _merge(chunks)


def validate_wave(warehouse: Path, wave_year: int, *, project_root: Path = spec.PROJECT_ROOT,
                  landing_root: Path | None = None, chunk_rows: int = CHUNK_ROWS,
                  write_results: bool = True, log=print) -> QualityReport:
    """Run every suite on every survey of a wave; store results in the warehouse.

    The GX context of the run lives beside the warehouse (`<warehouse folder>/gx/`).
    """
    from observatoire.quality.gx_runner import get_context

    rules = _rules(project_root)
    flag_only = sorted(c for c, r in rules.items() if r["is_blocking"].lower() != "true")
    landing_root = landing_root or project_root / "seeds"
    context = get_context(Path(warehouse).parent)
    report = QualityReport(wave_year, uuid.uuid4().hex[:12])
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report.quarantined = con.execute(
            "select count(*) from intermediate.int_respondent_quality "
            "where wave_year = ? and is_quarantined", [wave_year]).fetchone()[0]
        surveys = con.execute(
            "select survey, source_file, count(*), count(*) filter (not is_quarantined) "
            "from intermediate.int_respondent_quality where wave_year = ? group by all "
            "order by 1", [wave_year]).fetchall()
        for survey, source_file, accounted, accepted_n in surveys:
            raw_path = str(landing_root / "raw" / source_file)
            parameters = suite_parameters(
                survey=survey, wave=wave_year, project_root=project_root,
                landing_root=landing_root, rules=rules, accounted_rows=accounted,
                accepted_n=accepted_n)
            accepted = [raw_path, survey, wave_year, source_file, survey, wave_year,
                        source_file, flag_only]
            plan = [("raw_file", "landed", RAW, [raw_path])]
            for suite in ("responses", "respondents", "item_nonresponse"):
                plan.append((suite, "landed", RAW, [raw_path]))
                plan.append((suite, "accepted", ACCEPTED_RAW, accepted))
            plan += [("weights", "accepted", WEIGHTS,
                      [raw_path, survey, wave_year, source_file]),
                     ("indicators", "accepted", INDICATORS, [survey, wave_year]),
                     ("reconciliation", "accepted", INDICATORS, [survey, wave_year])]
            for suite, batch, sql, params in plan:
                log(f"    GX {survey} {wave_year} {suite} ({batch})")
                results = _validate(context, con, suite, f"{survey}_{wave_year}_{batch}", sql,
                                    params, parameters, chunk_rows)
                for row in results:
                    meta = row.pop("meta")
                    report.results.append({
                        **row, "gx_suite": row["suite"], "survey": survey,
                        "wave_year": wave_year, "batch": batch,
                        "check_id": meta.get("check_id"),
                        "is_blocking": _is_blocking(meta, batch, rules),
                        "run_id": report.run_id, "run_at": run_at,
                    })
    if write_results:
        write_validation_results(warehouse, report)
    return report


# What the suites read besides the wave's rows and landed files: the package's suites and the code
# computing their parameters (relative to the package root; the configuration seeds are the
# project's, `seeds/*.csv`).
SUITE_CODE = ("expectations/gx/expectations", "expectations/gx/plugins", "observatoire/quality",
              "observatoire/statistics", "observatoire/spec.py", "dbt_project.yml")
# The warehouse tables a wave's validation reads (its rows of each).
VALIDATED_TABLES = ("intermediate.int_respondent_quality", "intermediate.int_respondents_accepted",
                    "intermediate.int_respondent_checks", "intermediate.int_respondent_weights",
                    "marts.fct_indicator")


def wave_fingerprint(warehouse: Path, wave_year: int, *, project_root: Path = spec.PROJECT_ROOT,
                     landing_root: Path | None = None) -> str:
    """Everything the validation of a wave reads: its rows in the warehouse (an order-free hash
    of each table's rows), its landed files, the configuration seeds, the suites and their
    code."""
    landing_root = Path(landing_root or project_root / "seeds")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = [str(con.execute(f"select count(*), sum(hash(t)) from {table} t "
                                "where wave_year = ?", [wave_year]).fetchone())
                for table in VALIDATED_TABLES]
    config = sorted((Path(project_root) / "seeds").glob("*.csv"))
    landed = [f for folder in ("raw", "codebooks", "published")
              for f in sorted((landing_root / folder).glob(f"*_{wave_year}*.csv"))]
    code = reuse.files_under(spec.PROJECT_ROOT, SUITE_CODE, {".json", ".py", ".yml"})
    return reuse.digest([*rows, reuse.files_digest(config + landed, project_root),
                         reuse.files_digest(code, spec.PROJECT_ROOT)])


def stored_report(warehouse: Path, wave_year: int, run_id: str) -> QualityReport | None:
    """The results of an earlier validation of the wave, from quality.dq_validation_result."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            frame = con.execute("select * from quality.dq_validation_result "
                                "where wave_year = ? and run_id = ?", [wave_year, run_id]).df()
            quarantined = con.execute(
                "select count(*) from intermediate.int_respondent_quality "
                "where wave_year = ? and is_quarantined", [wave_year]).fetchone()[0]
        except duckdb.CatalogException:
            return None
    if frame.empty:
        return None
    results = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return QualityReport(wave_year, run_id, results=results, quarantined=quarantined)


def validate_wave_once(warehouse: Path, wave_year: int, *, project_root: Path = spec.PROJECT_ROOT,
                       landing_root: Path | None = None, revalidate: bool = False,
                       log=print) -> tuple[QualityReport, bool]:
    """`validate_wave`, unless the wave was validated on the same inputs (`wave_fingerprint`):
    then its stored results. Returns (report, reused)."""
    step = f"great_expectations:{wave_year}"
    fingerprint = wave_fingerprint(warehouse, wave_year, project_root=project_root,
                                   landing_root=landing_root)
    previous = reuse.recorded(warehouse, step)
    if previous and previous[0] == fingerprint and not revalidate:
        report = stored_report(warehouse, wave_year, previous[1])
        if report is not None:
            log(f"    GX {wave_year}: inputs unchanged since validation {previous[1]}, "
                "results reused")
            return report, True
    report = validate_wave(warehouse, wave_year, project_root=project_root,
                           landing_root=landing_root, log=log)
    reuse.record(warehouse, step, fingerprint, report.run_id)
    return report, False


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
