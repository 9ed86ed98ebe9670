"""Evaluation of one respondent against the specification: routing, harmonised attributes,
segments and contributions to every target (the same semantics as the dbt models)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from observatoire import spec
from observatoire.spec import Clause, Codebook, Question, SegmentDef, Target

Answers = dict[str, object]  # question_id -> option key | frozenset of keys | int | None


@dataclass
class Problem:
    """Everything the search needs for one instrument and wave."""

    codebook: Codebook
    segments: list[SegmentDef]
    crosses: dict[str, list[str]]
    indicators: dict[str, spec.Indicator]
    targets: list[Target]
    # 'sex*age_band' -> {('homme', 'age_18_24'): share}
    margins: dict[str, dict[tuple[str, ...], float]]
    crosswalk: dict[tuple[str, str], tuple[str, str]]  # wave's question ids -> concepts
    # Reference distribution of each question's answers (question -> option key -> share, or
    # probability of ticking for a multi-select): the previous wave's where anchored, else the
    # priors seed. What no target constrains is drawn from it, never uniformly.
    reference: dict[str, dict[str, float]] = field(default_factory=dict)


class Engine:
    """Evaluates conditions, segments and target contributions for one respondent."""

    def __init__(self, problem: Problem):
        self.p = problem
        self.questions = problem.codebook.by_id()

    # -- attributes -------------------------------------------------------------------------
    def attributes(self, answers: Answers, harmonised: bool = False) -> dict[str, frozenset[str]]:
        """Answered questions and segments as key -> set of values (empty set = answered none).
        Harmonised: question ids and option keys mapped to concepts by the crosswalk (what
        segments and indicators read); otherwise the wave's own ids (what routing reads).
        Segments are always computed on concepts."""
        raw: dict[str, frozenset[str]] = {}
        concepts: dict[str, frozenset[str]] = {}
        for qid, value in answers.items():
            if value is None:
                continue
            values = value if isinstance(value, frozenset) else frozenset([str(value)])
            raw[qid] = values
            if self.p.crosswalk:
                concept = spec.harmonise(qid, "*", self.p.crosswalk)[0]
                concepts[concept] = frozenset(
                    spec.harmonise(qid, v, self.p.crosswalk)[1] for v in values)
        if not self.p.crosswalk:
            concepts = raw
        seg: dict[str, set[str]] = {}
        for sd in self.p.segments:
            if sd.segment_value == "*":
                key = sd.condition[0][0]
                seg.setdefault(sd.segment_type, set()).update(concepts.get(key, ()))
            elif self.holds(sd.condition, concepts):
                seg.setdefault(sd.segment_type, set()).add(sd.segment_value)
        attrs = dict(concepts if harmonised else raw)
        for stype, values in seg.items():
            attrs["segment." + stype] = frozenset(values)
        return attrs

    @staticmethod
    def holds(condition: tuple[Clause, ...], attrs: dict[str, frozenset[str]]) -> bool:
        for key, accepted in condition:
            values = attrs.get(key)
            if values is None:
                return False
            if accepted is not None and not (values & accepted):
                return False
        return True

    def in_segment(self, stype: str, svalue: str, attrs: dict[str, frozenset[str]]) -> bool:
        if stype == "all":
            return True
        if stype in self.p.crosses:
            return all(
                v in attrs.get("segment." + t, ())
                for t, v in zip(self.p.crosses[stype], svalue.split("|"), strict=True)
            )
        return svalue in attrs.get("segment." + stype, ())

    def contributions(self, answers: Answers, weight: float) -> list[tuple[float, float]]:
        """(numerator, denominator) of this respondent for every target."""
        attrs = self.attributes(answers, harmonised=True)
        out = []
        for t in self.p.targets:
            ind = self.p.indicators[t.indicator_id]
            if not (self.in_segment(t.segment_type, t.segment_value, attrs)
                    and self.holds(ind.base, attrs)):
                out.append((0.0, 0.0))
            elif ind.unit == "count":
                out.append((1.0, 0.0))
            elif ind.unit == "mean":
                x = attrs.get(ind.value_question)
                out.append((weight * float(next(iter(x))), weight) if x else (0.0, 0.0))
            else:
                out.append((weight if self.holds(ind.numerator, attrs) else 0.0, weight))
        return out

    # -- answering --------------------------------------------------------------------------
    def fresh_answer(self, q: Question, rng: random.Random, nonresponse: float) -> object:
        if not q.is_required and rng.random() < nonresponse:
            return None
        return self.draw(q, rng)

    def draw(self, q: Question, rng: random.Random) -> object:
        """An answer drawn from the question's reference distribution (uniform only for a
        question the reference lacks; tests check the shipped codebooks have none)."""
        keys = [o.key for o in q.options]
        ref = self.p.reference.get(q.question_id, {})
        if q.qtype == "multi":
            chosen = frozenset(k for k in keys if rng.random() < ref.get(k, 0.3))
            if q.is_required and not chosen:
                chosen = frozenset([self.draw_key(q, rng)])
            return chosen
        key = self.draw_key(q, rng)
        return int(key) if q.qtype in ("scale", "numeric") else key

    def draw_key(self, q: Question, rng: random.Random) -> str:
        """One option key, in proportion to the reference distribution."""
        keys = [o.key for o in q.options]
        ref = self.p.reference.get(q.question_id)
        weights = [ref.get(k, 0.0) for k in keys] if ref else None
        if not weights or sum(weights) <= 0:
            return rng.choice(keys)
        return rng.choices(keys, weights=weights)[0]

    def route(self, answers: Answers, rng: random.Random, start: int = 0,
              nonresponse: float = 0.02, donors: list[Answers] | None = None) -> None:
        """Apply the codebook's routing from question index `start` on, in place: questions whose
        universe no longer holds are removed; newly routed-in questions get an answer copied
        from a random donor who answered it (hot deck, so that figures already fitted stay
        close), or a fresh random answer when there is no donor."""
        qs = self.p.codebook.questions
        attrs = None
        for q in qs[start:]:
            if q.universe:
                if attrs is None:
                    attrs = self.attributes(answers)
                asked = self.holds(q.universe, attrs)
            else:
                asked = True
            if not asked:
                if q.question_id in answers:
                    del answers[q.question_id]
                    attrs = None
            elif q.question_id not in answers:
                answers[q.question_id] = self._donor_answer(q, rng, nonresponse, donors)
                attrs = None

    def _donor_answer(self, q: Question, rng: random.Random, nonresponse: float,
                      donors: list[Answers] | None) -> object:
        for _ in range(12 if donors else 0):
            donor = rng.choice(donors)
            if q.question_id in donor:
                return donor[q.question_id]
        return self.fresh_answer(q, rng, nonresponse)


def load_problem(codebook_path: Path, targets_path: Path, seeds: Path = spec.SEEDS,
                 log=print) -> tuple[Problem, int]:
    """Read the spec of one instrument and wave; returns the problem and the sample size."""
    codebook = spec.load_codebook(codebook_path)
    survey = codebook.instrument
    segments, crosses = spec.load_segments(survey, seeds)
    indicators = spec.load_indicators(survey, seeds)
    known_types = {s.segment_type for s in segments} | set(crosses) | {"all"}
    eng_segments = {(s.segment_type, s.segment_value) for s in segments}
    targets, n = [], None
    for t in spec.load_targets(targets_path, survey):
        if t.indicator_id == "respondents" and t.segment_type == "all":
            n = int(t.value)
        if t.indicator_id not in indicators or t.segment_type not in known_types:
            log(f"  skip target {t.indicator_id}/{t.segment_type}={t.segment_value}: "
                "no such indicator or segment type in the catalogue")
            continue
        star_values = {o.key for s in segments if (s.segment_type, s.segment_value)
                       == (t.segment_type, "*")
                       for o in codebook.by_id()[s.condition[0][0]].options}
        if (t.segment_type not in ("all", *crosses) and t.segment_value not in star_values
                and (t.segment_type, t.segment_value) not in eng_segments):
            log(f"  skip target {t.indicator_id}/{t.segment_type}={t.segment_value}: "
                "segment not defined for this survey")
            continue
        targets.append(t)
    if n is None:
        raise ValueError(f"{targets_path}: no 'respondents,all,all' row gives the sample size")
    margins: dict[str, dict[tuple[str, ...], float]] = {}
    margin_file = seeds / "population_margins.csv"
    if margin_file.exists():
        for r in spec.read_csv_rows(margin_file):
            if r["survey"] == survey:
                margins.setdefault(r["variable"], {})[tuple(r["category"].split("*"))] = float(
                    r["share_pct"])
    crosswalk = spec.load_crosswalk(survey, codebook.wave_year, seeds)
    return Problem(codebook, segments, crosses, indicators, targets, margins, crosswalk,
                   spec.load_priors(survey, seeds)), n
