"""The professional survey's indicators in pandas: what an analyst would otherwise write.

Reads each raw respondent file with pandas (one row per respondent, one column per cell), applies
the blocking quality checks that quarantine a respondent (duplicate id, duplicate answers, code
outside the codebook or scale out of range, broken routing, required question unanswered), then
computes every indicator of `seeds/indicator_catalogue.csv` for its segment types
(`seeds/segments.csv`, `seeds/segment_types.csv`) with boolean masks per respondent — the
catalogue's condition syntax evaluated column-wise, no SQL. Value null under 10 respondents.

The professional survey is unweighted (weight 1), so a share is numerator / base and a mean is
the plain mean; the crosswalk must be the identity for the files read (checked).

    python bench/pandas_indicators.py --landing data/bench/1x1000/seeds --out result.parquet
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from observatoire import conventions, spec
from observatoire.spec import Codebook

SURVEY = "pro"
MIN_PUBLISH_BASE = 10
DUPLICATE_ANSWERS_MIN_CELLS = 20
FILE_NAME = re.compile(conventions.LANDED_FILE_IN_PATH)


class Wave:
    """One wave's respondents as a frame of stripped strings ('' = empty cell)."""

    def __init__(self, frame: pd.DataFrame, codebook: Codebook):
        self.frame = frame
        self.codebook = codebook
        self.by_id = codebook.by_id()
        self.n = len(frame)

    def answered(self, qid: str) -> np.ndarray:
        """A valid answer (multi-select: any 0/1 cell); nobody answers a question the wave's
        codebook does not ask (an indicator of a later questionnaire has no members here)."""
        q = self.by_id.get(qid)
        if q is None:
            return np.zeros(self.n, dtype=bool)
        if q.qtype == "multi":
            return (self.frame[q.columns()] != "").to_numpy().any(axis=1)
        return self.frame[q.variable].isin([o.code for o in q.options]).to_numpy()

    def has_option(self, qid: str, key: str) -> np.ndarray:
        q = self.by_id.get(qid)
        option = None if q is None else next((o for o in q.options if o.key == key), None)
        if option is None:
            return np.zeros(self.n, dtype=bool)
        if q.qtype == "multi":
            return (self.frame[f"{q.variable}__{option.code}"] == "1").to_numpy()
        return (self.frame[q.variable] == option.code).to_numpy()


class Segments:
    """Segment membership (segments seed): type -> value -> boolean mask."""

    def __init__(self, wave: Wave, seeds: Path):
        self.wave = wave
        defs, self.crosses = spec.load_segments(SURVEY, seeds)
        self.masks: dict[str, dict[str, np.ndarray]] = {"all": {"all": np.ones(wave.n, bool)}}
        for sd in defs:
            values = self.masks.setdefault(sd.segment_type, {})
            if sd.segment_value == "*":
                qid = sd.condition[0][0]
                for o in wave.by_id[qid].options:
                    mask = wave.has_option(qid, o.key)
                    if mask.any():
                        values[o.key] = values.get(o.key, False) | mask
            else:
                values[sd.segment_value] = (values.get(sd.segment_value, False)
                                            | self.holds(sd.condition))
        for stype, (first, second) in self.crosses.items():
            self.masks[stype] = {
                f"{a}|{b}": ma & mb
                for a, ma in self.masks[first].items() for b, mb in self.masks[second].items()}

    def holds(self, condition) -> np.ndarray:
        out = np.ones(self.wave.n, dtype=bool)
        for key, accepted in condition:
            if key.startswith("segment."):
                values = self.masks[key.removeprefix("segment.")]
                mask = np.zeros(self.wave.n, dtype=bool)
                for value, m in values.items():
                    if accepted is None or value in accepted:
                        mask |= m
            elif accepted is None:
                mask = self.wave.answered(key)
            else:
                mask = np.zeros(self.wave.n, dtype=bool)
                for value in accepted:
                    mask |= self.wave.has_option(key, value)
            out &= mask
        return out


def quarantined(frame: pd.DataFrame, codebook: Codebook, seeds: Path) -> np.ndarray:
    """Respondents failing a blocking check (the quality_rules seed's blocking ones)."""
    cells = codebook.columns()
    filled = frame[cells] != ""
    bad = frame["respondent_id"].duplicated(keep="first").to_numpy(copy=True)
    bad |= (frame[cells].duplicated(keep="first")
            & (filled.sum(axis=1) >= DUPLICATE_ANSWERS_MIN_CELLS)).to_numpy()
    for q in codebook.questions:  # codes (and scale values) outside the codebook
        allowed = ["0", "1"] if q.qtype == "multi" else [o.code for o in q.options]
        for column in q.columns():
            bad |= ((frame[column] != "") & ~frame[column].isin(allowed)).to_numpy()
    wave = Wave(frame, codebook)
    segments = Segments(wave, seeds)  # universes may name segments
    for q in codebook.questions:
        answered = filled[q.columns()].to_numpy().any(axis=1)
        if q.universe:  # broken routing
            bad |= answered & ~segments.holds(q.universe)
        if q.is_required:  # required question unanswered (universes of required ones: none)
            bad |= ~answered & segments.holds(q.universe)
    return bad


def wave_indicators(frame: pd.DataFrame, wave_year: int, codebook: Codebook, seeds: Path
                    ) -> list[dict]:
    catalogue = spec.load_indicators(SURVEY, seeds)
    frame = frame.loc[~quarantined(frame, codebook, seeds)].reset_index(drop=True)
    wave = Wave(frame, codebook)
    segments = Segments(wave, seeds)
    rows = []
    for ind in catalogue.values():
        base = segments.holds(ind.base)
        if ind.unit == "mean":
            values = pd.to_numeric(frame[wave.by_id[ind.value_question].variable],
                                   errors="coerce").to_numpy(dtype=float)
            base &= ~np.isnan(values)
        numerator = segments.holds(ind.numerator) & base
        for stype in ind.segment_types:
            for svalue, member in segments.masks[stype].items():
                in_base = base & member
                base_n = int(in_base.sum())
                if base_n == 0:
                    continue
                if ind.unit == "count":
                    value = float(base_n)
                elif ind.unit == "mean":
                    value = float(values[in_base].sum()) / base_n
                else:
                    value = float((numerator & member).sum()) / base_n
                rows.append({"wave_year": wave_year, "survey": SURVEY,
                             "indicator_id": ind.indicator_id, "segment_type": stype,
                             "segment_value": svalue,
                             "value": value if base_n >= MIN_PUBLISH_BASE else None,
                             "base_n": base_n})
    return rows


def compute(landing: Path, seeds: Path) -> pd.DataFrame:
    """fct_indicator rows of every professional-survey file under `landing/raw`."""
    rows = []
    for path in sorted((landing / "raw").glob(f"{SURVEY}_*.csv")):
        match = FILE_NAME.search(path.name)
        wave_year = int(match.group(2))
        crosswalk = spec.load_crosswalk(SURVEY, wave_year, seeds)
        if crosswalk:
            raise NotImplementedError(f"{path.name}: the crosswalk is not the identity")
        codebook = spec.load_codebook(landing / "codebooks" / f"{SURVEY}_{wave_year}.csv")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
        frame = frame.apply(lambda column: column.fillna("").str.strip())
        rows += wave_indicators(frame, wave_year, codebook, seeds)
    return pd.DataFrame(rows, columns=["wave_year", "survey", "indicator_id", "segment_type",
                                       "segment_value", "value", "base_n"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True, help="folder with raw/, codebooks/")
    parser.add_argument("--seeds", type=Path, help="seeds folder (default: --landing)")
    parser.add_argument("--out", type=Path, required=True, help="result (.parquet)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = compute(args.landing, args.seeds or args.landing)
    result.to_parquet(args.out, index=False)
    print(f"{len(result)} indicator rows in {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
