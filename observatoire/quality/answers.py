"""A respondent file's answers as arrays, one per question, with the condition syntax
(`question=key1|key2;segment.type=value`) evaluated on them as boolean masks: Great
Expectations' custom expectations recompute routing with it, independently of the SQL,
and the benchmark's scale generator draws answers into it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from observatoire.spec import Clause, Codebook, SegmentDef


class Columns:
    """Answers of n respondents, one array per question, and condition evaluation on them.

    single/scale/numeric: `codes[qid]` int16 option index, -1 = no answer;
    multi: `selected[qid]` bool (n × options) and `answered[qid]` bool (shown and answered).
    """

    def __init__(self, codebook: Codebook, segments: list[SegmentDef], n: int):
        self.questions = codebook.by_id()
        self.segments = segments
        self.n = n
        self.codes: dict[str, np.ndarray] = {}
        self.selected: dict[str, np.ndarray] = {}
        self.answered: dict[str, np.ndarray] = {}

    def has(self, qid: str) -> bool:
        return qid in self.codes or qid in self.answered

    def answered_mask(self, qid: str) -> np.ndarray:
        if qid in self.codes:
            return self.codes[qid] >= 0
        return self.answered[qid]

    def option_mask(self, qid: str, key: str) -> np.ndarray:
        q = self.questions[qid]
        index = next((i for i, o in enumerate(q.options) if o.key == key), None)
        if index is None:
            return np.zeros(self.n, dtype=bool)
        if qid in self.codes:
            return self.codes[qid] == index
        return self.selected[qid][:, index]

    def segment_masks(self, segment_type: str) -> dict[str, np.ndarray]:
        """segment value -> membership, for one segment type (from the segments seed)."""
        out: dict[str, np.ndarray] = {}
        for sd in self.segments:
            if sd.segment_type != segment_type:
                continue
            if sd.segment_value == "*":
                qid = sd.condition[0][0]
                self._require(qid, f"segment {segment_type}")
                for o in self.questions[qid].options:
                    out[o.key] = out.get(o.key, False) | self.option_mask(qid, o.key)
            else:
                out[sd.segment_value] = out.get(sd.segment_value, False) | self.holds(sd.condition)
        return out

    def clause(self, key: str, accepted: frozenset[str] | None) -> np.ndarray:
        if key.startswith("segment."):
            masks = self.segment_masks(key.removeprefix("segment."))
            chosen = [m for v, m in masks.items() if accepted is None or v in accepted]
            out = np.zeros(self.n, dtype=bool)
            for mask in chosen:
                out |= mask
            return out
        self._require(key, "condition")
        if accepted is None:
            return self.answered_mask(key)
        out = np.zeros(self.n, dtype=bool)
        for value in accepted:
            out |= self.option_mask(key, value)
        return out

    def holds(self, condition: tuple[Clause, ...]) -> np.ndarray:
        out = np.ones(self.n, dtype=bool)
        for key, accepted in condition:
            out &= self.clause(key, accepted)
        return out

    def _require(self, qid: str, what: str) -> None:
        if qid not in self.questions:
            raise ValueError(f"{what} names {qid!r}, not a question of the codebook")
        if not self.has(qid):
            raise ValueError(f"{what} reads {qid!r} before it is drawn (codebook order)")


def encode(frame: pd.DataFrame, codebook: Codebook, segments: list[SegmentDef]) -> Columns:
    """A raw respondent file (read as strings) as Columns (invalid codes count as no answer)."""
    cols = Columns(codebook, segments, len(frame))
    for q in codebook.questions:
        if q.qtype == "multi":
            cells = frame[q.columns()].fillna("").to_numpy(dtype=str)
            cols.selected[q.question_id] = cells == "1"
            cols.answered[q.question_id] = (cells != "").any(axis=1)
        else:
            lookup = {o.code: i for i, o in enumerate(q.options)}
            values = frame[q.variable].fillna("").str.strip()
            cols.codes[q.question_id] = values.map(lookup).fillna(-1).to_numpy(dtype=np.int16)
    return cols
