"""The survey specification as data: codebooks, segments, indicator catalogue, published targets.

Everything that differs between waves, questions or indicators lives in CSV files under
`seeds/`. This module reads them into small typed objects shared by the synthetic generator,
the pandas reference engine and the quality checks. dbt reads the very same files.

Condition syntax (used by codebook universes, segments and the indicator catalogue):
`key=value1|value2;key2=*` — clauses joined by `;` must all hold. `key` is a question id or
`segment.<segment_type>`; values are option keys (stable English slugs), `*` means "answered".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from observatoire import conventions

PROJECT_ROOT = conventions.PROJECT_ROOT
SEEDS = conventions.SEEDS
RAW_NAME = conventions.LANDED_FILE

Clause = tuple[str, frozenset[str] | None]  # (key, accepted values) ; None = any answer


def parse_condition(text: str | None) -> tuple[Clause, ...]:
    """Parse `a=x|y;b=*` into clauses; an empty condition is always true."""
    clauses: list[Clause] = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"condition clause {part!r} lacks '=' (expected key=value|value)")
        key, values = (s.strip() for s in part.split("=", 1))
        clauses.append((key, None if values == "*" else frozenset(values.split("|"))))
    return tuple(clauses)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """Read a UTF-8 CSV (BOM tolerated) into a list of dicts."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Option:
    code: str
    key: str
    label_fr: str
    label_en: str


@dataclass
class Question:
    question_id: str
    variable: str
    position: int
    qtype: str  # single | multi | scale | numeric
    grid_id: str
    wording_fr: str
    wording_en: str
    universe: tuple[Clause, ...]
    universe_text: str
    is_required: bool
    options: list[Option] = field(default_factory=list)

    def columns(self) -> list[str]:
        """Columns of the raw respondent file that hold this question."""
        if self.qtype == "multi":
            return [f"{self.variable}__{o.code}" for o in self.options]
        return [self.variable]

    def key_for_code(self, code: str) -> str | None:
        return next((o.key for o in self.options if o.code == code), None)

    def code_for_key(self, key: str) -> str:
        return next(o.code for o in self.options if o.key == key)


@dataclass
class Codebook:
    instrument: str
    wave_year: int
    questions: list[Question]

    def by_id(self) -> dict[str, Question]:
        return {q.question_id: q for q in self.questions}

    def columns(self) -> list[str]:
        return [c for q in self.questions for c in q.columns()]


def load_codebook(path: Path) -> Codebook:
    """Load one codebook file (one row per question × answer option)."""
    rows = read_csv_rows(path)
    if not rows:
        raise ValueError(f"{path}: empty codebook")
    questions: dict[str, Question] = {}
    for row in rows:
        qid = row["question_id"]
        if qid not in questions:
            questions[qid] = Question(
                question_id=qid,
                variable=row["variable"],
                position=int(row["position"]),
                qtype=row["question_type"],
                grid_id=row.get("grid_id", "") or "",
                wording_fr=row["wording_fr"],
                wording_en=row["wording_en"],
                universe=parse_condition(row["universe"]),
                universe_text=row["universe"],
                is_required=row["is_required"].lower() == "true",
            )
        if row["option_code"] != "":
            questions[qid].options.append(
                Option(row["option_code"], row["option_key"], row["label_fr"], row["label_en"])
            )
    ordered = sorted(questions.values(), key=lambda q: q.position)
    return Codebook(rows[0]["instrument"], int(rows[0]["wave_year"]), ordered)


@dataclass
class SegmentDef:
    segment_type: str
    segment_value: str  # '*' expands to one segment per option key of the condition's question
    condition: tuple[Clause, ...]


@dataclass
class Indicator:
    indicator_id: str
    survey: str
    unit: str  # share | mean | count
    numerator: tuple[Clause, ...]
    base: tuple[Clause, ...]
    value_question: str
    segment_types: list[str]
    label_fr: str
    label_en: str


@dataclass
class Target:
    """A published figure: the value a synthetic wave must reproduce."""

    survey: str
    indicator_id: str
    segment_type: str
    segment_value: str
    value: float
    unit: str  # pct | count | mean_0_10
    low: float  # accepted interval, in the unit of `value`
    high: float


def load_segments(survey: str, seeds: Path = SEEDS
                  ) -> tuple[list[SegmentDef], dict[str, list[str]]]:
    """Segment definitions of a survey, and the cross segment types (type -> component types)."""
    defs = [
        SegmentDef(r["segment_type"], r["segment_value"], parse_condition(r["condition"]))
        for r in read_csv_rows(seeds / "segments.csv")
        if r["survey"] == survey
    ]
    crosses = {
        r["segment_type"]: r["crosses"].split("|")
        for r in read_csv_rows(seeds / "segment_types.csv")
        if r["survey"] == survey and r["crosses"]
    }
    return defs, crosses


def load_indicators(survey: str, seeds: Path = SEEDS) -> dict[str, Indicator]:
    """The indicator catalogue of a survey, keyed by indicator id."""
    return {
        r["indicator_id"]: Indicator(
            r["indicator_id"], r["survey"], r["unit"], parse_condition(r["numerator"]),
            parse_condition(r["base"]), r["value_question"], r["segment_types"].split("|"),
            r["label_fr"], r["label_en"],
        )
        for r in read_csv_rows(seeds / "indicator_catalogue.csv")
        if r["survey"] == survey
    }


COMPARABILITY_ORDER = {"comparable": 0, "comparable_with_caveat": 1, "break": 2}


def load_crosswalk(survey: str, wave_year: int, seeds: Path = SEEDS
                   ) -> dict[tuple[str, str], tuple[str, str]]:
    """Harmonisation of one wave: (question_id, option_key or '*') -> (concept_id, concept
    option key or '*'). Questions without a row map to themselves (same id, same keys)."""
    path = seeds / "crosswalk.csv"
    if not path.exists():
        return {}
    rows = read_csv_rows(path)
    check_crosswalk(rows, path)
    return {
        (r["question_id"], r["option_key"]): (r["concept_id"], r["concept_option_key"] or "*")
        for r in rows
        if r["survey"] == survey and int(r["wave_year"]) == wave_year
    }


def crosswalk_problems(rows: list[dict[str, str]]) -> list[tuple[int, str]]:
    """(file row, reason) of every crosswalk row with an empty `option_key`: one rule for the
    generator and the landing step. `*` must be written for "every option of the question":
    an empty cell was read as `*` by the generator and matched no answer in the warehouse, so
    a series fell to 0 silently. (An empty `concept_option_key` means "same key" for both.)"""
    return [(row_no, f"empty option_key for {r.get('survey')} {r.get('wave_year')} question "
                     f"{r.get('question_id')!r}: write '*' to map every option of the "
                     "question, or the option's own key")
            for row_no, r in enumerate(rows, start=2)  # row 1 is the header
            if not (r.get("option_key") or "").strip()]


def check_crosswalk(rows: list[dict[str, str]], path: Path | str = "crosswalk.csv") -> None:
    """Raise ValueError naming file, row and column for the first crosswalk problem."""
    for row_no, reason in crosswalk_problems(rows):
        raise ValueError(f"{path} row {row_no}, column option_key: {reason}")


def harmonise(question_id: str, option_key: str,
              crosswalk: dict[tuple[str, str], tuple[str, str]]) -> tuple[str, str]:
    """Concept id and concept option key of an answer (exact option rows win over '*')."""
    hit = crosswalk.get((question_id, option_key)) or crosswalk.get((question_id, "*"))
    if hit is None:
        return question_id, option_key
    concept, concept_key = hit
    return concept, option_key if concept_key == "*" else concept_key


def load_targets(path: Path, survey: str) -> list[Target]:
    """Published figures of one wave as targets; the accepted interval follows the printed
    precision (half a unit of the last printed decimal) unless an explicit range is given."""
    targets = []
    for r in read_csv_rows(path):
        if r["survey"] != survey:
            continue
        value = float(r["value"])
        half = 0.5 * 10 ** -int(r["printed_decimals"] or 0)
        low = float(r["range_low"]) if r.get("range_low") else value - half
        high = float(r["range_high"]) if r.get("range_high") else value + half
        targets.append(Target(survey, r["indicator_id"], r["segment_type"], r["segment_value"],
                              value, r["unit"], low, high))
    return targets


@dataclass
class StatedChange:
    """A change in points a publication states between two waves (2025 − 2024, say)."""

    survey: str
    indicator_id: str
    segment_type: str
    segment_value: str
    from_wave: int
    to_wave: int
    change: float  # points
    half: float  # half a unit of the printed precision, in points
    implied_from_value: float | None
    implied_half: float


def load_changes(survey: str, seeds: Path = SEEDS) -> list[StatedChange]:
    """Every stated change of a survey (`published/published_changes_<wave>.csv`)."""
    out = []
    for path in sorted((seeds / "published").glob("published_changes_*.csv")):
        for r in read_csv_rows(path):
            if r["survey"] != survey:
                continue
            half = 0.5 * 10 ** -int(r["printed_decimals"] or 0)
            implied = r.get("implied_from_value") or ""
            out.append(StatedChange(
                survey, r["indicator_id"], r["segment_type"], r["segment_value"],
                int(r["from_wave"]), int(r["to_wave"]), float(r["change_points"]), half,
                float(implied) if implied else None, half))
    return out


def load_change_exceptions(survey: str, seeds: Path = SEEDS) -> set[tuple[str, str, str, int]]:
    """Figures listed in `seeds/published_exceptions.csv`, as (indicator, segment type,
    segment value, wave): a stated change from that wave on that figure is a documented
    contradiction with the wave's published level (the row's reason gives the arithmetic)."""
    path = seeds / "published_exceptions.csv"
    if not path.exists():
        return set()
    return {(r["indicator_id"], r["segment_type"], r["segment_value"], int(r["wave_year"]))
            for r in read_csv_rows(path) if r["survey"] == survey}


def load_priors(survey: str, seeds: Path = SEEDS) -> dict[str, dict[str, float]]:
    """Answer distributions no wave publishes (`seeds/synthesis_priors.csv`), as fractions:
    question id -> option key -> share of those answering (single, scale) or probability of
    ticking the option (multi)."""
    path = seeds / "synthesis_priors.csv"
    if not path.exists():
        return {}
    out: dict[str, dict[str, float]] = {}
    for r in read_csv_rows(path):
        if r["survey"] == survey:
            out.setdefault(r["question_id"], {})[r["option_key"]] = float(r["share_pct"]) / 100
    return out
