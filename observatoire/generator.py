"""Synthetic respondent files, generated from a wave's published figures.

The real respondent files are confidential. For each instrument and wave, this module builds
a respondent-level file shaped like a survey-tool export (one row per respondent, one column per
question or per option of a multi-select question, coded answers, timestamps, item
non-response) whose indicators, computed with the indicator catalogue, reproduce the wave's
published figures to their printed precision.

Nothing here knows about 2024: questions and routing come from the wave's codebook, indicator
definitions from the catalogue, and the figures to hit from the wave's targets file. The search
is a simulated annealing over respondents' answers that respects the codebook's routing:
  * start from answers drawn at random (quota variables from population margins);
  * repeatedly change one answer of one respondent (re-routing what follows), keeping the
    change when the distance to the targets does not grow (or, early on, by chance);
  * the distance counts, for each target, how many respondents are missing to bring the
    figure into its printed-precision interval, plus, for targets sharing a base, how far the
    base size is from a size at which all of them are reachable at once.
"""

from __future__ import annotations

import bisect
import csv
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
        keys = [o.key for o in q.options]
        if q.qtype == "multi":
            chosen = frozenset(k for k in keys if rng.random() < 0.3)
            if q.is_required and not chosen:
                chosen = frozenset([rng.choice(keys)])
            return chosen
        if q.qtype in ("scale", "numeric"):
            return int(rng.choice(keys))
        return rng.choice(keys)

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


def _target_loss(t: Target, unit: str, num: float, den: float) -> float:
    if unit == "count":
        # Counts are structural (segment sizes); weigh them more so they are fixed early.
        return 3.0 * abs(num - t.value)
    if den <= 0:
        return 5.0
    scale = 100.0 if unit == "share" else 1.0
    lo, hi = t.low / scale * den, t.high / scale * den
    return max(0.0, lo - num, num - hi)


def _feasible_sizes(group: list[Target], units: list[str], max_n: int) -> set[int]:
    """Base sizes n at which every share target of the group has an integer numerator inside
    its interval (unweighted case)."""
    sizes = set()
    for n in range(1, max_n + 1):
        ok = True
        for t, unit in zip(group, units, strict=True):
            if unit != "share":
                continue
            lo, hi = t.low / 100 * n, t.high / 100 * n
            if math.ceil(lo - 1e-9) > math.floor(hi + 1e-9):
                ok = False
                break
        if ok:
            sizes.add(n)
    return sizes


class Search:
    """Simulated annealing over the answers of n respondents."""

    def __init__(self, problem: Problem, n: int, rng: random.Random,
                 weights: list[float] | None = None):
        self.p, self.n, self.rng = problem, n, rng
        self.eng = Engine(problem)
        self.position = {q.question_id: i for i, q in enumerate(problem.codebook.questions)}
        self.prefix = {q.question_id: [x.question_id for x in problem.codebook.questions[:i]]
                       for i, q in enumerate(problem.codebook.questions)}
        self.weights = weights or [1.0] * n
        # Weights depend on the quota variables: with weights given, those answers are frozen.
        self.frozen = ({q for var in problem.margins for q in var.split("*")}
                       if weights else set())
        self.units = [problem.indicators[t.indicator_id].unit for t in problem.targets]
        self.sample_margins = self._sample_margins()
        self.respondents = [self._initial() for _ in range(n)]
        self.contrib = [self.eng.contributions(a, w)
                        for a, w in zip(self.respondents, self.weights, strict=True)]
        k = len(problem.targets)
        self.num = [sum(c[i][0] for c in self.contrib) for i in range(k)]
        self.den = [sum(c[i][1] for c in self.contrib) for i in range(k)]
        self._build_groups()
        self.levers = [self._levers(t) for t in problem.targets]

    def _sample_margins(self) -> dict[str, tuple[list, list[float]]]:
        """Quota variables are drawn from the population margins, distorted at random (as an
        online panel's achieved sample is), so that weighting has something to correct."""
        out = {}
        for var, dist in self.p.margins.items():
            cats = list(dist)
            out[var] = (cats, [dist[c] * math.exp(self.rng.gauss(0, 0.3)) for c in cats])
        return out

    def _initial(self) -> Answers:
        answers: Answers = {}
        for var, (cats, shares) in self.sample_margins.items():
            pick = self.rng.choices(cats, weights=shares)[0]
            for qid, key in zip(var.split("*"), pick, strict=True):
                answers[qid] = key
        self.eng.route(answers, self.rng)
        return answers

    def _build_groups(self) -> None:
        """Targets sharing base and segment share one base size: precompute feasible sizes."""
        weighted = any(w != 1.0 for w in self.weights)
        groups: dict[tuple, list[int]] = {}
        for i, t in enumerate(self.p.targets):
            ind = self.p.indicators[t.indicator_id]
            if ind.unit == "share" and not weighted:
                key = (ind.base, t.segment_type, t.segment_value)
                groups.setdefault(key, []).append(i)
        self.groups = []
        for members in groups.values():
            sizes = _feasible_sizes([self.p.targets[i] for i in members],
                                    [self.units[i] for i in members], self.n)
            if sizes:
                self.groups.append((members, sorted(sizes)))
        self.group_of = {i: g for g, (members, _) in enumerate(self.groups) for i in members}

    def _levers(self, t: Target) -> list[str]:
        """Questions whose answers move a target: its conditions, its segment, their routing."""
        ind = self.p.indicators[t.indicator_id]
        keys = [k for k, _ in ind.numerator + ind.base]
        if ind.value_question:
            keys.append(ind.value_question)
        seg_types = self.p.crosses.get(t.segment_type, [t.segment_type])
        for sd in self.p.segments:
            if sd.segment_type in seg_types or any(k == "segment." + sd.segment_type for k in keys):
                keys += [k for k, _ in sd.condition]
        qs = self.eng.questions
        out: list[str] = []
        for k in keys:
            if k in qs and k not in out:
                out.append(k)
                out += [u for u, _ in qs[k].universe if u in qs and u not in out]
        return [q for q in (out or list(qs)) if q not in self.frozen] or list(qs)

    def target_loss(self, i: int) -> float:
        return _target_loss(self.p.targets[i], self.units[i], self.num[i], self.den[i])

    def group_loss(self, g: int) -> float:
        members, sizes = self.groups[g]
        n = self.den[members[0]]
        at = bisect.bisect_left(sizes, n)
        near = [sizes[j] for j in (at - 1, at) if 0 <= j < len(sizes)]
        return min(abs(n - s) for s in near)

    def total_loss(self) -> float:
        return (sum(self.target_loss(i) for i in range(len(self.p.targets)))
                + sum(self.group_loss(g) for g in range(len(self.groups))))

    def _mutate(self, answers: Answers, qid: str) -> bool:
        q = self.eng.questions[qid]
        if qid not in answers or qid in self.frozen:
            return False
        current, rng = answers[qid], self.rng
        keys = [o.key for o in q.options]
        if not q.is_required and rng.random() < 0.08:
            answers[qid] = None if current is not None else self.eng.fresh_answer(q, rng, 0)
        elif q.qtype == "multi":
            chosen = set(current or ())
            chosen ^= {rng.choice(keys)}
            if q.is_required and not chosen:
                return False
            answers[qid] = frozenset(chosen)
        elif q.qtype in ("scale", "numeric"):
            base = current if current is not None else int(rng.choice(keys))
            new = base + rng.choice((-2, -1, 1, 2))
            if str(new) not in keys:
                return False
            answers[qid] = new
        else:
            answers[qid] = rng.choice([k for k in keys if k != current])
        self.eng.route(answers, rng, start=self.position[qid] + 1, donors=self.respondents)
        return True

    def run(self, max_steps: int = 400_000, progress=None, cycle: int = 50_000) -> float:
        """Anneal until every target is met or max_steps; returns the final distance.

        The temperature falls over cycles of `cycle` steps and is raised again at the start
        of each cycle, to leave local minima; the best state seen is kept."""
        loss = self.total_loss()
        best = (loss, list(self.respondents))
        k = len(self.p.targets)
        for step in range(max_steps):
            if loss <= 1e-9:
                break
            if step % cycle == 0 and step:
                if best[0] < loss - 1e-9:
                    self._restore(best[1])
                    loss = self.total_loss()
            temperature = 1.0 * (1 - (step % cycle) / cycle) ** 3 + 1e-3
            unmet = [i for i in range(k) if self.target_loss(i) > 0]
            unmet += [m[0] for g, (m, _) in enumerate(self.groups) if self.group_loss(g) > 0]
            i = self.rng.choice(unmet) if unmet else self.rng.randrange(k)
            moved = self._propose(self.rng.choice(self.levers[i]))
            if not moved:
                continue
            delta = self._apply(moved)
            if delta is None:
                continue
            if delta <= 0 or self.rng.random() < math.exp(-delta / temperature):
                loss += delta
                if loss < best[0] - 1e-9:
                    best = (loss, list(self.respondents))
            else:
                self._apply([(r, old, new) for r, new, old in moved])
            if progress and step % 20_000 == 0:
                progress(step, loss)
        if best[0] < loss - 1e-9:
            self._restore(best[1])
        return self.total_loss()

    def _propose(self, qid: str) -> list[tuple[int, Answers, Answers]]:
        """A move: (respondent, new answers, old answers) for one or two respondents.

        Moves change one answer; swap one answer between two respondents (which keeps that
        answer's overall distribution); or swap, between two respondents, the answers from
        question `qid` to the end of the questionnaire, which moves a whole consistent answer
        path onto another respondent's profile."""
        r = self.rng.randrange(self.n)
        old = self.respondents[r]
        kind = self.rng.random()
        if kind < 0.4:
            new = dict(old)
            return [(r, new, old)] if self._mutate(new, qid) else []
        r2 = self._partner(r, qid)
        old2 = self.respondents[r2]
        if (r2 == r or qid in self.frozen or qid not in old or qid not in old2
                or old[qid] == old2[qid]):
            return []
        if kind < 0.7:
            tail = {qid}
        else:
            tail = {q.question_id for q in self.p.codebook.questions[self.position[qid]:]
                    if q.question_id not in self.frozen}
        new = {q: v for q, v in old.items() if q not in tail}
        new2 = {q: v for q, v in old2.items() if q not in tail}
        new.update({q: v for q, v in old2.items() if q in tail})
        new2.update({q: v for q, v in old.items() if q in tail})
        for answers in (new, new2):
            self.eng.route(answers, self.rng, start=0, donors=self.respondents)
        return [(r, new, old), (r2, new2, old2)]

    def _partner(self, r: int, qid: str, candidates: int = 12) -> int:
        """A swap partner for respondent r: among a few random respondents, one who answered
        the questions before `qid` most alike (so that a swap moves few other figures)."""
        before = self.prefix[qid]
        mine = self.respondents[r]
        best, best_distance = r, None
        for _ in range(candidates):
            other = self.rng.randrange(self.n)
            theirs = self.respondents[other]
            if other == r or qid not in theirs or theirs[qid] == mine.get(qid):
                continue
            distance = sum(mine.get(q) != theirs.get(q) for q in before)
            if best_distance is None or distance < best_distance:
                best, best_distance = other, distance
        return best

    def _apply(self, moved: list[tuple[int, Answers, Answers]]) -> float | None:
        """Install new answers, update the running sums; returns the change in distance."""
        k = len(self.p.targets)
        updates = []
        for r, new, _ in moved:
            contrib = self.eng.contributions(new, self.weights[r])
            updates.append((r, new, contrib))
        changed = sorted({j for r, _, c in updates for j in range(k) if c[j] != self.contrib[r][j]})
        groups = {self.group_of[j] for j in changed if j in self.group_of}
        before = (sum(self.target_loss(j) for j in changed)
                  + sum(self.group_loss(g) for g in groups))
        for r, new, contrib in updates:
            for j in changed:
                self.num[j] += contrib[j][0] - self.contrib[r][j][0]
                self.den[j] += contrib[j][1] - self.contrib[r][j][1]
            self.respondents[r], self.contrib[r] = new, contrib
        after = (sum(self.target_loss(j) for j in changed)
                 + sum(self.group_loss(g) for g in groups))
        return after - before

    def _alternatives(self, answers: Answers, qid: str) -> list[object]:
        """Every other answer a respondent could give to qid (one toggle away for multi)."""
        q = self.eng.questions[qid]
        if qid not in answers or qid in self.frozen:
            return []
        current, keys = answers[qid], [o.key for o in q.options]
        if q.qtype == "multi":
            chosen = set(current or ())
            out = [frozenset(chosen ^ {k}) for k in keys]
            out = [o for o in out if o or not q.is_required]
        elif q.qtype in ("scale", "numeric"):
            out = [int(k) for k in keys if int(k) != current]
        else:
            out = [k for k in keys if k != current]
        if not q.is_required and current is not None:
            out.append(None)
        return out

    def _single_moves(self, targets: list[int]) -> list[tuple[float, int, Answers]]:
        """All one-answer changes on the levers of the given targets, with their distance
        change (evaluated, then undone)."""
        moves = []
        levers = {q for i in targets for q in self.levers[i]}
        for r in range(self.n):
            old = self.respondents[r]
            for qid in levers:
                for value in self._alternatives(old, qid):
                    new = dict(old)
                    new[qid] = value
                    self.eng.route(new, self.rng, start=self.position[qid] + 1,
                                   donors=self.respondents)
                    delta = self._apply([(r, new, old)])
                    self._apply([(r, old, new)])
                    moves.append((delta, r, new))
        return moves

    def polish(self, rounds: int = 50, breadth: int = 80, log=None) -> float:
        """Deterministic finish when annealing leaves a few targets unmet: take the best
        single answer change, or else the best pair of changes among the most promising
        ones (a pair can cross a ridge no single change can)."""
        for _ in range(rounds):
            unmet = [i for i in range(len(self.p.targets)) if self.target_loss(i) > 0]
            if not unmet:
                break
            moves = sorted(self._single_moves(unmet), key=lambda m: m[0])
            if moves and moves[0][0] < -1e-9:
                _, r, new = moves[0]
                self._apply([(r, new, self.respondents[r])])
                continue
            best = (0.0, None)
            top = moves[:breadth]
            for a in range(len(top)):
                d1, r1, new1 = top[a]
                old1 = self.respondents[r1]
                first = self._apply([(r1, new1, old1)])
                for b in range(a + 1, len(top)):
                    d2, r2, new2 = top[b]
                    if r2 == r1:
                        continue
                    old2 = self.respondents[r2]
                    total = first + self._apply([(r2, new2, old2)])
                    self._apply([(r2, old2, new2)])
                    if total < best[0] - 1e-9:
                        best = (total, (r1, new1, r2, new2))
                self._apply([(r1, old1, new1)])
            if best[1] is None:
                break
            r1, new1, r2, new2 = best[1]
            self._apply([(r1, new1, self.respondents[r1])])
            self._apply([(r2, new2, self.respondents[r2])])
            if log:
                log(f"  polish: pair move, distance {self.total_loss():.3f}")
        return self.total_loss()

    def _restore(self, respondents: list[Answers]) -> None:
        self.respondents = list(respondents)
        self.contrib = [self.eng.contributions(a, w)
                        for a, w in zip(self.respondents, self.weights, strict=True)]
        k = len(self.p.targets)
        self.num = [sum(c[i][0] for c in self.contrib) for i in range(k)]
        self.den = [sum(c[i][1] for c in self.contrib) for i in range(k)]

    def unmet(self) -> list[tuple[Target, float]]:
        """Targets still outside their interval, with the computed value."""
        out = []
        for i, t in enumerate(self.p.targets):
            if self.target_loss(i) > 0:
                den = self.den[i]
                scale = 100.0 if self.units[i] == "share" else 1.0
                value = self.num[i] if self.units[i] == "count" else (
                    scale * self.num[i] / den if den else float("nan"))
                out.append((t, value))
        return out


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
    return Problem(codebook, segments, crosses, indicators, targets, margins, crosswalk), n


def write_raw_file(path: Path, codebook: Codebook, respondents: list[Answers],
                   fieldwork: tuple[date, date], rng: random.Random,
                   median_minutes: float = 12.0) -> None:
    """Write respondents as a survey-tool export in the canonical raw format."""
    ids = rng.sample(range(100_000, 1_000_000), len(respondents))
    start, end = fieldwork
    span = max(1, int((end - start).total_seconds() if isinstance(start, datetime)
                      else (end - start).days * 86400))
    header = ["respondent_id", "source_row", "started_at", "ended_at", *codebook.columns()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row_no, (rid, answers) in enumerate(zip(ids, respondents, strict=True), start=1):
            started = datetime.combine(start, datetime.min.time()) + timedelta(
                seconds=rng.randrange(span))
            duration = timedelta(seconds=int(60 * median_minutes * math.exp(rng.gauss(0, 0.35))))
            cells = [str(rid), str(row_no), started.isoformat(sep=" "),
                     (started + duration).isoformat(sep=" ")]
            for q in codebook.questions:
                value = answers.get(q.question_id)
                if q.qtype == "multi":
                    for o in q.options:
                        cells.append("" if value is None else str(int(o.key in value)))
                elif value is None:
                    cells.append("")
                elif q.qtype in ("scale", "numeric"):
                    cells.append(str(value))
                else:
                    cells.append(q.code_for_key(str(value)))
            writer.writerow(cells)


def generate(codebook_path: Path, targets_path: Path, out_path: Path, *, seed: int,
             fieldwork: tuple[date, date], seeds: Path = spec.SEEDS, weights_fn=None,
             max_steps: int = 400_000, log=print) -> list[tuple[Target, float]]:
    """Generate one synthetic raw file; returns the targets left unmet (empty when all met).

    `weights_fn(respondents) -> list[float]` lets a weighted instrument (the public poll) fit
    its targets on weighted figures: weights depend only on quota variables, which the search
    does not change once drawn.
    """
    problem, n = load_problem(codebook_path, targets_path, seeds, log)
    rng = random.Random(seed)
    log(f"generating {n} synthetic respondents for {problem.codebook.instrument} "
        f"{problem.codebook.wave_year}: {len(problem.targets)} targets")
    search = Search(problem, n, rng)
    if weights_fn is not None:
        search = Search(problem, n, random.Random(seed), weights=weights_fn(search.respondents))
    final = search.run(max_steps, progress=lambda s, lo: log(f"  step {s:>7,}: distance {lo:.2f}"))
    if final > 0:
        final = search.polish(log=log)
    log(f"  done: distance {final:.3f}")
    write_raw_file(out_path, problem.codebook, search.respondents, fieldwork, rng)
    return search.unmet()
