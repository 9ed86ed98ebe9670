"""A deterministic finish for the annealing: best single or paired answer changes, or a jump of
a base to its next feasible size followed by single changes."""

from __future__ import annotations

from observatoire.synthetic.engine import Answers


class PolishMixin:
    """Mixed into Search: needs its respondents, levers, related groups, running sums,
    `_apply`, `_restore`, `_jump_move` and `_unmet_targets`."""

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
        # in a fixed order (a set of question ids would follow the interpreter's hash seed,
        # and the same seed could then give two files)
        levers = dict.fromkeys(q for i in targets for q in self.levers[i])
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
        ones (a pair can cross a ridge no single change can), or else a base jump
        (`_jump_and_descend`)."""
        for _ in range(rounds):
            unmet = self._unmet_targets()
            if not unmet:
                break
            moves, improved = self._best_single_move(unmet)
            if improved:
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
                if self._jump_and_descend(unmet, log):
                    continue
                break
            r1, new1, r2, new2 = best[1]
            self._apply([(r1, new1, self.respondents[r1])])
            self._apply([(r2, new2, self.respondents[r2])])
            if log:
                log(f"  polish: pair move, distance {self.total_loss():.3f}")
        return self.total_loss()

    def _best_single_move(self, unmet: list[int]
                          ) -> tuple[list[tuple[float, int, Answers]], bool]:
        """The single moves on the levers of the unmet targets, best first, and whether the
        best one lowered the distance (then it is applied)."""
        moves = sorted(self._single_moves(unmet), key=lambda m: m[0])
        if moves and moves[0][0] < -1e-9:
            _, r, new = moves[0]
            self._apply([(r, new, self.respondents[r])])
            return moves, True
        return moves, False

    def _descend(self, steps: int) -> None:
        """Best single answer changes on the levers of the unmet targets, while one helps."""
        for _ in range(steps):
            unmet = self._unmet_targets()
            if not unmet or not self._best_single_move(unmet)[1]:
                return

    def _jump_and_descend(self, unmet: list[int], log=None, tries: int = 3,
                          steps: int = 30) -> bool:
        """When no single or paired change helps: take the base of a group related to an
        unmet target to its next feasible size in one move (`_jump_move`), then descend by
        single changes; kept only if the distance falls. A feasible base size can be
        many respondents away from the current one (every size between infeasible), which
        pairs of changes cannot reach."""
        groups = sorted({g for i in unmet for g in self.related[i]})
        self.rng.shuffle(groups)
        before = self.total_loss()
        for g in groups:
            for _ in range(tries):
                saved = list(self.respondents)
                moved = self._jump_move(g)
                if not moved:
                    continue
                self._apply(moved)
                self._descend(steps)
                if self.total_loss() < before - 1e-9:
                    if log:
                        log(f"  polish: base jump of {len(moved)} answers, distance "
                            f"{self.total_loss():.3f}")
                    return True
                self._restore(saved)
        return False

    @staticmethod
    def _fingerprint(answers: Answers) -> tuple:
        return tuple(sorted((q, tuple(sorted(v)) if isinstance(v, frozenset) else v)
                            for q, v in answers.items()))

    def _duplicates(self) -> list[int]:
        """Respondents whose answers repeat an earlier respondent's."""
        seen, out = set(), []
        for r, answers in enumerate(self.respondents):
            key = self._fingerprint(answers)
            if key in seen:
                out.append(r)
            seen.add(key)
        return out

    def deduplicate(self, passes: int = 50) -> int:
        """Make every respondent's answers unique (the warehouse quarantines a respondent
        whose answers repeat an earlier one's; starting from the previous wave's respondents
        leaves copies). A copy swaps one answer with another respondent who answered that
        question otherwise, preferring questions no target reads (a swap keeps the overall
        distribution), and only when the distance to the targets does not grow. Returns the
        number of swaps made."""
        levers = {q for lever in self.levers for q in lever}
        swaps = 0
        for _ in range(passes):
            copies = self._duplicates()
            if not copies:
                return swaps
            for r in copies:
                mine = self.respondents[r]
                free = [q for q in mine if q not in levers and q not in self.frozen] or \
                    [q for q in mine if q not in self.frozen]
                qid = self.rng.choice(free)
                other = self.rng.randrange(self.n)
                theirs = self.respondents[other]
                if other == r or qid not in theirs or theirs[qid] == mine[qid]:
                    continue
                new, new2 = dict(mine), dict(theirs)
                new[qid], new2[qid] = theirs[qid], mine[qid]
                for answers in (new, new2):
                    self.eng.route(answers, self.rng, start=self.position[qid] + 1,
                                   donors=self.respondents)
                moved = [(r, new, mine), (other, new2, theirs)]
                if self._apply(moved) > 1e-9:
                    self._apply([(i, old, cur) for i, cur, old in moved])
                else:
                    swaps += 1
        if self._duplicates():
            raise RuntimeError(f"{len(self._duplicates())} respondents still repeat another's "
                               f"answers after {passes} passes")
        return swaps
