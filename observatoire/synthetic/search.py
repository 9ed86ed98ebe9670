"""Simulated annealing over respondents' answers, towards a wave's published figures."""

from __future__ import annotations

import bisect
import math
import random

from observatoire.spec import Target
from observatoire.synthetic.engine import Answers, Engine, Problem
from observatoire.synthetic.polish import PolishMixin


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


class Search(PolishMixin):
    """Simulated annealing over the answers of n respondents."""

    def __init__(self, problem: Problem, n: int, rng: random.Random,
                 weights: list[float] | None = None, anchor: list[Answers] | None = None):
        self.p, self.n, self.rng = problem, n, rng
        self.anchor = self._anchor_order(anchor)
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
        self.related = [self._related_groups(levers) for levers in self.levers]

    def _sample_margins(self) -> dict[str, tuple[list, list[float]]]:
        """Quota variables are drawn from the population margins, distorted at random (as an
        online panel's achieved sample is), so that weighting has something to correct."""
        out = {}
        for var, dist in self.p.margins.items():
            cats = list(dist)
            out[var] = (cats, [dist[c] * math.exp(self.rng.gauss(0, 0.3)) for c in cats])
        return out

    def _anchor_order(self, anchor: list[Answers] | None) -> list[Answers]:
        """Previous-wave respondents to start from, n of them: each one once (in random order)
        before any is taken twice, which keeps the previous wave's distributions with less
        noise than independent draws."""
        if not anchor:
            return []
        order: list[Answers] = []
        while len(order) < self.n:
            batch = list(anchor)
            self.rng.shuffle(batch)
            order += batch[: self.n - len(order)]
        return order

    def _initial(self) -> Answers:
        if self.anchor:
            return self._from_anchor(self.anchor.pop())
        answers: Answers = {}
        for var, (cats, shares) in self.sample_margins.items():
            pick = self.rng.choices(cats, weights=shares)[0]
            for qid, key in zip(var.split("*"), pick, strict=True):
                answers[qid] = key
        self.eng.route(answers, self.rng)
        return answers

    def _from_anchor(self, previous: Answers) -> Answers:
        """A previous-wave respondent's answers kept where this wave's codebook has the same
        question and option keys; new questions are drawn from the reference by routing."""
        qs = self.eng.questions
        answers: Answers = {}
        for qid, value in previous.items():
            q = qs.get(qid)
            if q is None:
                continue
            keys = {o.key for o in q.options}
            if value is None or (isinstance(value, frozenset) and value <= keys) or \
                    str(value) in keys:
                answers[qid] = value
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
        # a published segment size caps its bases (178 of 176 producers is no target)
        caps = {(t.segment_type, t.segment_value): int(t.value) for t in self.p.targets
                if self.p.indicators[t.indicator_id].unit == "count"
                and not self.p.indicators[t.indicator_id].base}
        self.groups = []
        for (_, stype, svalue), members in groups.items():
            sizes = _feasible_sizes([self.p.targets[i] for i in members],
                                    [self.units[i] for i in members],
                                    min(self.n, caps.get((stype, svalue), self.n)))
            if sizes:
                self.groups.append((members, sorted(sizes)))
        self.group_of = {i: g for g, (members, _) in enumerate(self.groups) for i in members}

    def _related_groups(self, levers: list[str]) -> list[int]:
        """Groups whose base question is one of these levers or is asked according to one of
        them: the groups whose size a change of those answers can move."""
        out = []
        for g in range(len(self.groups)):
            qid = self._base_question(g)
            if qid is not None and (qid in levers or any(
                    u in levers for u, _ in self.eng.questions[qid].universe)):
                out.append(g)
        return out

    def _base_question(self, g: int) -> str | None:
        """The question whose answers make the base of a group of targets (None when its base
        condition names no question, e.g. a segment only)."""
        ind = self.p.indicators[self.p.targets[self.groups[g][0][0]].indicator_id]
        return next((k for k, _ in ind.base if k in self.eng.questions), None)

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
        """Redraw one answer from the question's reference distribution (a Gibbs-style move:
        a change no target cares about leaves the reference distribution in place, where a
        uniform proposal would pull every unconstrained split towards equal shares)."""
        q = self.eng.questions[qid]
        if qid not in answers or qid in self.frozen:
            return False
        current, rng = answers[qid], self.rng
        if not q.is_required and rng.random() < 0.08:
            # item non-response: redrawn too, so that it does not drift towards one half
            new = None if rng.random() < 0.15 else self.eng.draw(q, rng)
        elif q.qtype == "multi":
            # redraw one option's tick with its reference probability
            option = rng.choice(q.options).key
            ref = self.p.reference.get(qid, {}).get(option, 0.5)
            chosen = set(current or ())
            chosen.discard(option)
            if rng.random() < ref:
                chosen.add(option)
            if q.is_required and not chosen:
                return False
            new = frozenset(chosen)
        else:
            new = self.eng.draw(q, rng)
        if new == current:
            return False
        answers[qid] = new
        self.eng.route(answers, rng, start=self.position[qid] + 1, donors=self.respondents)
        return True

    def run(self, max_steps: int = 400_000, progress=None, cycle: int = 50_000,
            temperature_start: float = 1.0) -> float:
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
            temperature = temperature_start * (1 - (step % cycle) / cycle) ** 3 + 1e-3
            if step % 16 == 0:  # the unmet list changes slowly; recomputing it was a quarter
                unmet = self._unmet_targets()  # of the time
                unmet += [m[0] for g, (m, _) in enumerate(self.groups) if self.group_loss(g) > 0]
            i = self.rng.choice(unmet) if unmet else self.rng.randrange(k)
            g = self.group_of.get(i)
            if g is not None and self.rng.random() < 0.3 and self.group_loss(g) > 0:
                moved = self._base_move(g)
            else:
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

    def _base_move(self, g: int) -> list[tuple[int, Answers, Answers]]:
        """A move towards a feasible base size for a group of targets sharing a base: item
        non-response on the base's question for a respondent of the segment (or an answer
        where there was none). A size such as 165 of 176 producers can need a dozen such
        moves, which random answer changes propose too rarely."""
        members, sizes = self.groups[g]
        n = self.den[members[0]]
        at = bisect.bisect_left(sizes, n)
        target = min((sizes[j] for j in (at - 1, at) if 0 <= j < len(sizes)),
                     key=lambda size: abs(n - size))
        return self._resize(g, target, 1)

    def _jump_move(self, g: int) -> list[tuple[int, Answers, Answers]]:
        """The base of a group taken at once to the next feasible size below or above it: as
        many item non-responses (or answers) on the base's question as the sizes differ. The
        sizes in between are all infeasible, a ridge that moves of one respondent rarely
        cross (2024: 285 or 311 answers on the frequency of generative AI, nothing between,
        while the share who tried it pins how many were asked)."""
        members, sizes = self.groups[g]
        n = round(self.den[members[0]])
        at = bisect.bisect_left(sizes, n)
        after = at + 1 if at < len(sizes) and sizes[at] == n else at
        sides = [sizes[j] for j in (at - 1, after) if 0 <= j < len(sizes)]
        if not sides:
            return []
        target = self.rng.choice(sides)
        return self._resize(g, target, abs(n - target))

    def _resize(self, g: int, target: int, count: int, tries: int = 30
                ) -> list[tuple[int, Answers, Answers]]:
        """`count` respondents of the group's segment moved towards base size `target` (non-
        response on the base's question, or an answer where there was none), or no move."""
        members, _ = self.groups[g]
        t = self.p.targets[members[0]]
        qid = self._base_question(g)
        if qid is None or self.eng.questions[qid].is_required or qid in self.frozen:
            return []
        n = self.den[members[0]]
        moved: list[tuple[int, Answers, Answers]] = []
        taken: set[int] = set()
        for _ in range(tries * count):
            if len(moved) == count:
                break
            r = self.rng.randrange(self.n)
            old = self.respondents[r]
            if r in taken or qid not in old:
                continue
            if n > target and self.contrib[r][members[0]][1] > 0:
                value = None
            elif n < target and old[qid] is None and self.eng.in_segment(
                    t.segment_type, t.segment_value, self.eng.attributes(old, harmonised=True)):
                value = self.eng.draw(self.eng.questions[qid], self.rng)
            else:
                continue
            new = dict(old)
            new[qid] = value
            self.eng.route(new, self.rng, start=self.position[qid] + 1, donors=self.respondents)
            moved.append((r, new, old))
            taken.add(r)
        return moved if len(moved) == count else []

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

    def _restore(self, respondents: list[Answers]) -> None:
        self.respondents = list(respondents)
        self.contrib = [self.eng.contributions(a, w)
                        for a, w in zip(self.respondents, self.weights, strict=True)]
        k = len(self.p.targets)
        self.num = [sum(c[i][0] for c in self.contrib) for i in range(k)]
        self.den = [sum(c[i][1] for c in self.contrib) for i in range(k)]

    def _unmet_targets(self) -> list[int]:
        """Indices of the targets still outside their interval."""
        return [i for i in range(len(self.p.targets)) if self.target_loss(i) > 0]

    def unmet(self) -> list[tuple[Target, float]]:
        """Targets still outside their interval, with the computed value."""
        out = []
        for i in self._unmet_targets():
            den = self.den[i]
            scale = 100.0 if self.units[i] == "share" else 1.0
            value = self.num[i] if self.units[i] == "count" else (
                scale * self.num[i] / den if den else float("nan"))
            out.append((self.p.targets[i], value))
        return out
