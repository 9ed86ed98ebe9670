"""A deterministic finish for the annealing: best single or paired answer changes."""

from __future__ import annotations

from observatoire.generator.engine import Answers


class PolishMixin:
    """Mixed into Search: needs its respondents, levers, running sums and `_apply`."""

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
