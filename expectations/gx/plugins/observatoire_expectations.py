"""Custom Great Expectations expectations of the Observatoire (the GX project's plugins folder).

GX has no expectation that reads a survey codebook, evaluates routing conditions or compares
weights with population margins, so these are written here, as GX 1.x `BatchExpectation`s
backed by table metrics on the pandas engine. They recompute every check from the answers as
landed (one row per respondent, the raw file's columns as strings) and from configuration
(codebook, segments, population margins, published figures): never from the flags dbt computed.
Wave-dependent inputs (which codebook, which margins, the sample size) are suite parameters
(`{"$PARAMETER": "codebook"}` in the suite files of `expectations/gx/expectations/`), given at
validation time by `observatoire.quality.validation`, so one suite serves every wave.

Respondent checks (one unexpected row = one respondent), on a frame with the raw columns:

* `ExpectAnswersInCodebook`         every answer is a code its question defines (multi-select
                                    cells 0/1, scales numeric), and no column lies outside it;
* `ExpectScaleAnswersInRange`       scale answers between the lowest and highest scale code;
* `ExpectAnswersRoutedByUniverse`   no answer to a question whose universe condition
                                    (`ai_tried=yes`, `segment.usage_frequency=...`) is false,
                                    evaluated in Python with `observatoire.spec`'s syntax;
* `ExpectRequiredQuestionsAnswered` required questions answered where their universe holds;
* `ExpectRespondentIdsUnique`       no respondent id used by an earlier row;
* `ExpectAnswerPatternsUnique`      no two respondents with identical answers, among those with
                                    at least `threshold` answered cells.

A respondent that dbt kept *on purpose* (a finding of a rule configured flag-only in the
`quality_rules` seed) is listed in the frame's optional `tolerated_checks` column (check ids
joined by `|`) and is not unexpected for that check: the user chose to keep such respondents.
A defective respondent that dbt did not see at all is unexpected whatever the rule says.

Wave checks: `ExpectItemNonresponseBelow` (questions without routing, one unexpected row = one
question), `ExpectWeightsToReproduceMargins` (weighted shares of every margin, joint margins
such as `sex*age_band` included, within the raking tolerance; one unexpected row = one margin
cell) and `ExpectPublishedFiguresReproduced` (every published figure inside its printed
precision or listed as an exception; one unexpected row = one figure).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from observatoire import spec
from observatoire.quality.answers import Columns, encode

ID_COLUMNS = ("respondent_id", "source_row", "started_at", "ended_at")
TOLERATED = "tolerated_checks"
SAMPLE = 20  # unexpected rows listed in a result (source rows or keys)


# ---------------------------------------------------------------- checks as plain functions
@lru_cache(maxsize=32)
def _codebook(path: str, mtime: float) -> spec.Codebook:
    return spec.load_codebook(Path(path))


def load_codebook(path: str) -> spec.Codebook:
    """The codebook at `path` (cached while the file is unchanged)."""
    return _codebook(path, Path(path).stat().st_mtime)


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype("string").fillna("").apply(lambda c: c.str.strip())


def _cell_state(cells: pd.DataFrame, codebook: spec.Codebook
                ) -> dict[str, tuple[pd.Series, pd.Series, pd.Series]]:
    """Per codebook column present in the frame: (answered, valid code, out of range)."""
    state = {}
    for q in codebook.questions:
        codes = [o.code for o in q.options]
        for column in q.columns():
            if column not in cells:
                continue
            value = cells[column]
            answered = value != ""
            out_of_range = pd.Series(False, index=cells.index)
            if q.qtype == "multi":
                valid = value.isin(["0", "1"])
            elif q.qtype in ("scale", "numeric"):
                number = pd.to_numeric(value, errors="coerce")
                valid = number.notna()
                numeric_codes = [float(c) for c in codes]
                if numeric_codes:
                    out_of_range = valid & ((number < min(numeric_codes))
                                            | (number > max(numeric_codes)))
                    if q.qtype == "scale":  # inside the range, a scale answer is one of its codes
                        valid &= out_of_range | number.isin(numeric_codes)
            else:
                valid = value.isin(codes)
            state[column] = (answered, answered & valid & ~out_of_range,
                             answered & out_of_range)
    return state


def _answered(q: spec.Question, state) -> pd.Series:
    """Respondents with at least one valid cell for question `q`."""
    masks = [state[c][1] for c in q.columns() if c in state]
    return np.logical_or.reduce(masks) if masks else False


def _routed(cells: pd.DataFrame, codebook: spec.Codebook, segments: str) -> Columns:
    defs, _ = spec.load_segments(codebook.instrument, Path(segments).parent)
    return encode(cells, codebook, defs)


def respondent_findings(frame: pd.DataFrame, check: str, *, codebook: str | None = None,
                        segments: str | None = None, threshold: float | None = None
                        ) -> pd.Series:
    """Boolean mask of the respondents (rows of a raw respondent frame) failing `check`.

    `codebook` is the path of the wave's codebook, `segments` the path of the segments seed
    (for `segment.<type>` clauses of routing conditions). Rows listing `check` in the
    `tolerated_checks` column are not counted.
    """
    cells = _cells(frame.drop(columns=[TOLERATED], errors="ignore"))
    bad = pd.Series(False, index=frame.index)
    if check == "duplicate_id":
        bad = cells["respondent_id"].duplicated(keep="first")
    elif check == "duplicate_answers":
        answers = [c for c in cells.columns if c not in ID_COLUMNS]
        answered_n = (cells[answers] != "").sum(axis=1)
        # identical answers in every column, compared column by column (a row-wise join of
        # the cells took minutes at 100,000 respondents: docs/benchmarks.md)
        bad = cells[answers].duplicated(keep="first") & (answered_n >= float(threshold or 0))
    else:
        book = load_codebook(str(codebook))
        state = _cell_state(cells, book)
        if check == "invalid_code":
            for answered, valid, out_of_range in state.values():
                bad |= answered & ~valid & ~out_of_range
            known = set(book.columns()) | set(ID_COLUMNS)
            for column in cells.columns:
                if column not in known:  # a column the codebook does not define
                    bad |= cells[column] != ""
        elif check == "out_of_range":
            for _, _, out_of_range in state.values():
                bad |= out_of_range
        elif check in ("routing", "missing_required"):
            routed = _routed(cells, book, str(segments))
            for q in book.questions:
                asked = routed.holds(q.universe) if q.universe else True
                answered = _answered(q, state)
                if check == "routing" and q.universe:
                    bad |= answered & ~asked
                elif check == "missing_required" and q.is_required:
                    bad |= asked & ~pd.Series(answered, index=frame.index)
        else:
            raise ValueError(f"unknown respondent check {check!r}")
    if TOLERATED in frame:
        tolerated = frame[TOLERATED].fillna("").astype(str).str.split("|")
        bad &= ~tolerated.apply(lambda checks: check in checks)
    return pd.Series(np.asarray(bad, dtype=bool), index=frame.index)


def item_nonresponse(frame: pd.DataFrame, codebook: str) -> pd.Series:
    """Share of respondents without a valid answer, per question asked to everyone."""
    cells = _cells(frame.drop(columns=[TOLERATED], errors="ignore"))
    book = load_codebook(codebook)
    state = _cell_state(cells, book)
    rates = {}
    for q in book.questions:
        if not q.universe and any(c in state for c in q.columns()):
            answered = pd.Series(_answered(q, state), index=frame.index)
            rates[q.question_id] = 1 - answered.mean() if len(frame) else 0.0
    return pd.Series(rates, dtype=float)


def margin_errors(frame: pd.DataFrame, codebook: str, margins: dict[str, dict[str, float]],
                  weight: str = "weight") -> pd.Series:
    """|weighted share − population share| per margin cell (`variable:category`).

    Categories are option keys decoded with the codebook; a joint margin `a*b` reads the keys
    of `a` and `b` joined by `*`. Each margin's shares are normalised to sum to 1 (as raking
    does). A sample category absent from the margins counts with a population share of 0.
    """
    book = load_codebook(codebook).by_id()
    cells = _cells(frame.drop(columns=[weight], errors="ignore"))
    weights = frame[weight].astype(float)
    total = weights.sum()
    errors = {}
    for variable, shares in margins.items():
        keys = []
        for part in variable.split("*"):
            question = book[part]
            keys.append(cells[question.variable].map(
                {o.code: o.key for o in question.options}).fillna("<missing>"))
        category = keys[0] if len(keys) == 1 else pd.concat(keys, axis=1).agg("*".join, axis=1)
        observed = weights.groupby(category).sum() / total
        expected = pd.Series(shares, dtype=float)
        expected = expected / expected.sum()
        for cat in sorted(set(expected.index) | set(observed.index)):
            errors[f"{variable}:{cat}"] = abs(observed.get(cat, 0.0) - expected.get(cat, 0.0))
    return pd.Series(errors, dtype=float)


def unreproduced_figures(frame: pd.DataFrame, published: str, survey: str,
                         exceptions: list[str]) -> tuple[int, list[str]]:
    """Published figures of `survey` (file `published`) that the indicators in `frame` do not
    reproduce to the printed precision and that are not listed in `exceptions`
    (`indicator|segment_type|segment_value`). Returns (figures checked, unreproduced keys)."""
    if not published or not Path(published).is_file():
        return 0, []
    values = {(r.indicator_id, r.segment_type, r.segment_value): r.value
              for r in frame.itertuples(index=False)}
    targets = spec.load_targets(Path(published), survey)
    missed = []
    for t in targets:
        key = (t.indicator_id, t.segment_type, t.segment_value)
        value = values.get(key)
        computed = None if value is None or pd.isna(value) else (
            100 * float(value) if t.unit == "pct" else float(value))
        reproduced = computed is not None and t.low - 1e-9 <= computed <= t.high + 1e-9
        if not reproduced and "|".join(key) not in exceptions:
            missed.append("|".join(key))
    return len(targets), missed


# ---------------------------------------------------------------- metrics
class _TableMetric(TableMetricProvider):
    """A table metric computed by `_compute(frame, **value kwargs)` on the pandas engine."""

    @classmethod
    def _compute(cls, frame: pd.DataFrame, **kwargs) -> dict:
        raise NotImplementedError

    @metric_value(engine=PandasExecutionEngine)
    # GX calls metric functions on the class (its own providers name the first argument cls)
    def _pandas(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics,  # noqa: N805
                runtime_configuration):
        frame, _, _ = execution_engine.get_compute_domain(
            domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        return cls._compute(frame, **metric_value_kwargs)


def _rows(frame: pd.DataFrame, mask: pd.Series) -> dict:
    ids = frame["source_row"] if "source_row" in frame else pd.Series(frame.index)
    return {"unexpected_count": int(mask.sum()), "element_count": len(frame),
            "partial_unexpected_list": [str(v) for v in ids[mask.to_numpy()].head(SAMPLE)]}


def _respondent_metric(check_id: str):
    class Metric(_TableMetric):
        metric_name = f"observatoire.respondent_findings.{check_id}"
        value_keys = ("codebook", "segments", "threshold")

        @classmethod
        def _compute(cls, frame, **kwargs):
            return _rows(frame, respondent_findings(frame, check_id, **kwargs))

    Metric.__name__ = f"RespondentFindings_{check_id}"
    return Metric


CHECKS = ("invalid_code", "out_of_range", "routing", "missing_required", "duplicate_id",
          "duplicate_answers")
METRICS = {check: _respondent_metric(check) for check in CHECKS}


class ItemNonresponseRates(_TableMetric):
    metric_name = "observatoire.item_nonresponse"
    value_keys = ("codebook",)

    @classmethod
    def _compute(cls, frame, codebook):
        return item_nonresponse(frame, codebook).to_dict()


class MarginErrors(_TableMetric):
    metric_name = "observatoire.margin_errors"
    value_keys = ("codebook", "margins")

    @classmethod
    def _compute(cls, frame, codebook, margins):
        return margin_errors(frame, codebook, margins or {}).to_dict() if margins else {}


class UnreproducedFigures(_TableMetric):
    metric_name = "observatoire.unreproduced_figures"
    value_keys = ("published", "survey", "exceptions")

    @classmethod
    def _compute(cls, frame, published, survey, exceptions):
        checked, missed = unreproduced_figures(frame, published, survey, list(exceptions or []))
        return {"checked": checked, "missed": missed}


# ---------------------------------------------------------------- expectations
class _TableExpectation(BatchExpectation):
    """An expectation on a whole table (batch), decided from one table metric. A wave check
    names its metric (`table_metric`) and lists what it found unexpected (`judge`); its
    annotated parameters are its success keys."""

    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id", "row_condition", "condition_parser")
    table_metric: ClassVar[str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "table_metric" in vars(cls):
            cls.metric_dependencies = (cls.table_metric,)
            cls.success_keys = tuple(name for name, kind in vars(cls)["__annotations__"].items()
                                     if "ClassVar" not in str(kind))

    def judge(self, found) -> tuple[list, int, str]:
        """(unexpected elements by name, elements checked, observed value) from the metric."""
        raise NotImplementedError

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine=None) -> dict[str, Any]:
        unexpected, element_count, observed = self.judge(metrics[self.table_metric])
        return {"success": not unexpected, "result": {
            "observed_value": observed, "unexpected_count": len(unexpected),
            "element_count": element_count, "partial_unexpected_list": unexpected[:SAMPLE]}}


class _RespondentExpectation(_TableExpectation):
    """A respondent check: success when no (untolerated) respondent fails it."""

    check_id: ClassVar[str]
    codebook: str | SuiteParameterDict | None = None
    segments: str | SuiteParameterDict | None = None
    threshold: float | SuiteParameterDict | None = None
    success_keys = ("codebook", "segments", "threshold")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.metric_dependencies = (f"observatoire.respondent_findings.{cls.check_id}",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine=None) -> dict[str, Any]:
        found = metrics[f"observatoire.respondent_findings.{self.check_id}"]
        return {"success": found["unexpected_count"] == 0,
                "result": {**found, "observed_value": f"{found['unexpected_count']} respondents"}}


class ExpectAnswersInCodebook(_RespondentExpectation):
    """Every answer is a code of its question (multi-select cells 0/1, scales numeric), and
    no answered column lies outside the wave's codebook."""

    check_id = "invalid_code"


class ExpectScaleAnswersInRange(_RespondentExpectation):
    """Scale answers lie between the question's lowest and highest code."""

    check_id = "out_of_range"


class ExpectAnswersRoutedByUniverse(_RespondentExpectation):
    """No answer to a question whose universe condition does not hold for the respondent."""

    check_id = "routing"


class ExpectRequiredQuestionsAnswered(_RespondentExpectation):
    """Every required question is answered where its universe condition holds."""

    check_id = "missing_required"


class ExpectRespondentIdsUnique(_RespondentExpectation):
    """No respondent id is used by an earlier row of the file."""

    check_id = "duplicate_id"


class ExpectAnswerPatternsUnique(_RespondentExpectation):
    """No respondent repeats every answer of an earlier one (among respondents with at least
    `threshold` answered cells: short questionnaires share patterns by chance)."""

    check_id = "duplicate_answers"


class ExpectItemNonresponseBelow(_TableExpectation):
    """The share of non-response of every question asked to everyone is at most `threshold`."""

    table_metric: ClassVar[str] = "observatoire.item_nonresponse"
    codebook: str | SuiteParameterDict
    threshold: float | SuiteParameterDict

    def judge(self, found):
        rates = pd.Series(found, dtype=float)
        over = rates[rates > float(self.threshold) + 1e-12]
        worst = f"{rates.idxmax()}: {rates.max():.3f}" if len(rates) else "no question"
        return list(over.index), len(rates), f"highest {worst}"


class ExpectWeightsToReproduceMargins(_TableExpectation):
    """Weighted shares reproduce every population margin (joint margins included) within
    `tolerance`; vacuously true for an unweighted wave (no margins)."""

    table_metric: ClassVar[str] = "observatoire.margin_errors"
    codebook: str | SuiteParameterDict
    margins: dict | SuiteParameterDict
    tolerance: float | SuiteParameterDict

    def judge(self, found):
        errors = pd.Series(found, dtype=float)
        over = errors[errors > float(self.tolerance)]
        observed = (f"max margin error {errors.max():.3g}" if len(errors)
                    else "unweighted wave (no margins)")
        return list(over.index), len(errors), observed


class ExpectPublishedFiguresReproduced(_TableExpectation):
    """Every published figure of the wave is reproduced by the indicators to its printed
    precision, or listed in the published exceptions."""

    table_metric: ClassVar[str] = "observatoire.unreproduced_figures"
    published: str | SuiteParameterDict
    survey: str | SuiteParameterDict
    exceptions: list | SuiteParameterDict

    def judge(self, found):
        missed, checked = found["missed"], found["checked"]
        reproduced = checked - len(missed)
        return missed, checked, f"{reproduced} of {checked} reproduced or listed exceptions"
