"""Scale generator: W waves × N respondents of the professional survey, fast and deterministic.

The synthetic generator (`observatoire/synthetic/`) anneals respondents one by one until the
published figures are reproduced: right for 794 respondents, far too slow for a million. This
module draws the same *shape* column by column with numpy instead:

* the questionnaire is the 2024 professional codebook (`seeds/codebooks/pro_2024.csv`): same
  columns, multi-select questions as one 0/1 column per option, the benefits grid, scales;
* routing is respected: questions are drawn in codebook order and each question's universe
  (`ai_tried=yes`, `segment.usage_frequency=non_user|tried_not_adopted`, …) is evaluated as a
  boolean mask over the columns already drawn — the same condition syntax as dbt and
  `observatoire.spec`, including `segment.<type>` clauses read from `seeds/segments.csv`;
* answer distributions and item non-response rates are learnt from the shipped synthetic
  2024 file (shares among respondents who were asked), smoothed so that every option occurs,
  with a small deterministic drift from one wave to the next (trends are not flat);
* required questions are always answered (a required multi-select gets at least one option);
* deterministic: a wave's file depends only on (seed, wave year, N), so adding a wave never
  changes the files of earlier ones.

Output is canonical landing: `<root>/raw/pro_<year>__scale.csv` (the survey tool's export
format: `respondent_id, source_row, started_at, ended_at, <columns>`; empty cell = not asked
or not answered) and `<root>/codebooks/pro_<year>.csv` (the 2024 codebook, year replaced).
`make_project` builds a copy of the dbt project around them (like `copy_project` in
tests/conftest.py, shipped respondent files removed).

    python -m bench.scale --dest data/bench/demo --waves 10 --respondents 100000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from observatoire import spec
from observatoire.quality.answers import Columns, encode
from observatoire.spec import Codebook, SegmentDef

SURVEY = "pro"
SHAPE_WAVE = 2024
FIRST_WAVE = 2030  # no shipped file or published figure exists for these years (2025 is shipped)
PROJECT_PARTS = ["dbt_project.yml", "profiles.yml", ".dbtignore", "models", "macros", "seeds"]
DEFAULT_SEED = 20240519
DRIFT = 0.04  # per wave, on the log-odds scale of each option
MEDIAN_MINUTES = 12.0


# -- shape ------------------------------------------------------------------------------------

@dataclass
class Shape:
    """How one question is answered by respondents who are asked it."""

    answer_rate: float  # P(answered | asked); 1 for required questions
    probs: np.ndarray  # single: P(option | answered); multi: P(option ticked | answered)


def learn_shapes(codebook: Codebook, segments: list[SegmentDef], raw_path: Path | None
                 ) -> dict[str, Shape]:
    """Answer distributions of every question among the respondents asked it in `raw_path`
    (the shipped synthetic 2024 file), add-one smoothed; uniform when there is no file."""
    cols = None
    if raw_path is not None and raw_path.exists():
        cols = encode(pd.read_csv(raw_path, dtype=str, keep_default_na=False), codebook, segments)
    shapes: dict[str, Shape] = {}
    for q in codebook.questions:
        k = len(q.options)
        if cols is None:
            rate = 1.0 if q.is_required else 0.97
            probs = np.full(k, 0.3 if q.qtype == "multi" else 1 / k)
        else:
            asked = cols.holds(q.universe)
            answered = asked & cols.answered_mask(q.question_id)
            rate = 1.0 if q.is_required else (answered.sum() + 1) / (asked.sum() + 2)
            if q.qtype == "multi":
                ticked = cols.selected[q.question_id][answered].sum(axis=0)
                probs = (ticked + 1) / (answered.sum() + 2)
            else:
                counts = np.bincount(cols.codes[q.question_id][answered], minlength=k)
                probs = (counts + 1) / (counts.sum() + k)
        shapes[q.question_id] = Shape(float(rate), np.asarray(probs, dtype=float))
    return shapes


def drifted(probs: np.ndarray, direction: np.ndarray, steps: int, multi: bool) -> np.ndarray:
    """Probabilities moved `steps` waves along a fixed direction on the log-odds scale."""
    p = np.clip(probs, 1e-6, 1 - 1e-6)
    logit = np.log(p / (1 - p)) + DRIFT * steps * direction
    moved = 1 / (1 + np.exp(-logit))
    return moved if multi else moved / moved.sum()


# -- drawing ----------------------------------------------------------------------------------

def draw_wave(codebook: Codebook, segments: list[SegmentDef], shapes: dict[str, Shape],
              n: int, wave_year: int, seed: int = DEFAULT_SEED) -> Columns:
    """Answers of n respondents for one wave, column by column in codebook order."""
    rng = np.random.default_rng([seed, wave_year, n])
    directions = np.random.default_rng([seed, 0])  # the same trend directions for every wave
    steps = wave_year - FIRST_WAVE
    cols = Columns(codebook, segments, n)
    for q in codebook.questions:
        shape = shapes[q.question_id]
        probs = drifted(shape.probs, directions.standard_normal(len(shape.probs)), steps,
                        q.qtype == "multi")
        asked = cols.holds(q.universe) if q.universe else np.ones(n, dtype=bool)
        answered = asked if q.is_required else asked & (rng.random(n) < shape.answer_rate)
        if q.qtype == "multi":
            ticks = rng.random((n, len(probs)), dtype=np.float32) < probs.astype(np.float32)
            ticks &= answered[:, None]
            if q.is_required:  # at least one option: the option drawn by its relative weight
                empty = answered & ~ticks.any(axis=1)
                pick = _categorical(rng, probs / probs.sum(), int(empty.sum()))
                ticks[np.flatnonzero(empty), pick] = True
            cols.selected[q.question_id] = ticks
            cols.answered[q.question_id] = answered
        else:
            codes = _categorical(rng, probs, n).astype(np.int16)
            codes[~answered] = -1
            cols.codes[q.question_id] = codes
    return cols


def _categorical(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    cumulative = np.cumsum(probs)
    cumulative /= cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, rng.random(size), side="right"),
                      len(probs) - 1)


def fieldwork(seeds: Path, wave_year: int) -> tuple[dt.datetime, int]:
    """Start and length (seconds) of the 2024 pro fieldwork, moved to `wave_year`."""
    start, end = dt.date(SHAPE_WAVE, 3, 18), dt.date(SHAPE_WAVE, 4, 22)
    for row in spec.read_csv_rows(seeds / "waves.csv"):
        if row["survey"] == SURVEY and int(row["wave_year"]) == SHAPE_WAVE:
            start = dt.date.fromisoformat(row["fieldwork_start"])
            end = dt.date.fromisoformat(row["fieldwork_end"])
    begin = dt.datetime(wave_year, start.month, start.day)
    return begin, max(86_400, int((end - start).days * 86_400))


def to_table(cols: Columns, codebook: Codebook, wave_year: int, start: dt.datetime, span: int,
             seed: int = DEFAULT_SEED, defects: int = 0) -> pa.Table:
    """The canonical raw file of a wave as an Arrow table (nulls = empty cells), with
    `defects` faulty rows injected (see `inject_defects`)."""
    n = cols.n
    rng = np.random.default_rng([seed, wave_year, n, 1])
    ids = 10_000_000 + rng.permutation(n)  # unique within the wave, like a survey tool's ids
    started = (np.datetime64(start, "s") + rng.integers(0, span, n).astype("timedelta64[s]"))
    seconds = (60 * MEDIAN_MINUTES * np.exp(rng.normal(0, 0.35, n))).astype(np.int64)
    # answer columns as (values, missing) numpy pairs; codes that are not integers as text
    cells: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    text: dict[str, pa.Array] = {}
    for q in codebook.questions:
        if q.qtype == "multi":
            answered = cols.answered[q.question_id]
            for j, column in enumerate(q.columns()):
                cells[column] = (cols.selected[q.question_id][:, j].astype(np.int8), ~answered)
        else:
            codes = cols.codes[q.question_id]
            labels = [o.code for o in q.options]
            if all(c.lstrip("-").isdigit() for c in labels):
                values = np.array([int(c) for c in labels], dtype=np.int64)[np.maximum(codes, 0)]
                cells[q.variable] = (values, codes < 0)
            else:
                indices = pa.array(codes.astype(np.int32), mask=codes < 0)
                text[q.variable] = pa.array(labels).take(indices)
    if defects:
        inject_defects(cells, ids, codebook, defects,
                       np.random.default_rng([seed, wave_year, n, 2]))
    arrays = {
        "respondent_id": pa.array(ids.astype(np.int64)),
        "source_row": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "started_at": pa.array(started),
        "ended_at": pa.array(started + seconds.astype("timedelta64[s]")),
    }
    for column in codebook.columns():
        if column in text:
            arrays[column] = text[column]
        else:
            values, missing = cells[column]
            arrays[column] = pa.array(values, mask=missing)
    return pa.table(arrays)


DEFECT_KINDS = ("duplicate_id", "duplicate_answers", "invalid_code", "out_of_range", "routing",
                "missing_required")


def inject_defects(cells: dict[str, tuple[np.ndarray, np.ndarray]], ids: np.ndarray,
                   codebook: Codebook, count: int, rng: np.random.Generator) -> None:
    """Faulty rows, as real exports have, so that the quarantine paths are exercised: in turn a
    repeated respondent id, a repeated set of answers (another respondent's), a code outside
    the codebook, a scale value out of range, an answer to a question out of its universe
    (routing), a required question left empty. In place; rows chosen at random (never row 0)."""
    n = len(ids)
    if n < 2:
        return
    questions = codebook.by_id()
    rows = rng.choice(np.arange(1, n), size=min(count, n - 1), replace=False)
    single = [q for q in codebook.questions
              if q.qtype == "single" and q.variable in cells and not q.universe]
    scales = [q for q in codebook.questions if q.qtype == "scale" and q.variable in cells]
    required = [q for q in codebook.questions if q.is_required and q.qtype != "multi"
                and q.variable in cells]
    routed = [q for q in codebook.questions if q.qtype != "multi" and q.variable in cells
              and len(q.universe) == 1 and q.universe[0][0] in questions
              and q.universe[0][1] is not None
              and questions[q.universe[0][0]].variable in cells]
    for i, row in enumerate(rows):
        kind = DEFECT_KINDS[i % len(DEFECT_KINDS)]
        if kind == "duplicate_id":
            ids[row] = ids[row - 1]
        elif kind == "duplicate_answers":
            donor = int(rng.integers(0, row))
            for values, missing in cells.values():
                values[row], missing[row] = values[donor], missing[donor]
        elif kind == "invalid_code" and single:
            values, missing = cells[single[int(rng.integers(len(single)))].variable]
            values[row], missing[row] = 97, False
        elif kind == "out_of_range" and scales:
            q = scales[int(rng.integers(len(scales)))]
            values, missing = cells[q.variable]
            values[row] = max(int(o.code) for o in q.options) + 1
            missing[row] = False
        elif kind == "routing" and routed:
            q = routed[int(rng.integers(len(routed)))]
            key, accepted = q.universe[0]
            gate = questions[key]
            refused = [o.code for o in gate.options if o.key not in accepted]
            gate_values, gate_missing = cells[gate.variable]
            gate_values[row], gate_missing[row] = int(refused[0]), False
            values, missing = cells[q.variable]
            values[row], missing[row] = int(q.options[0].code), False
        elif kind == "missing_required" and required:
            cells[required[int(rng.integers(len(required)))].variable][1][row] = True


def write_csv(table: pa.Table, path: Path) -> None:
    """CSV as the survey tool exports it: plain header, no quotes, empty cell for null."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "wb") as handle:
        handle.write((",".join(table.column_names) + "\n").encode())
        pa_csv.write_csv(table, handle, pa_csv.WriteOptions(include_header=False,
                                                            quoting_style="none"))
    tmp.replace(path)


def write_codebook(source: Path, dest: Path, wave_year: int) -> None:
    """The 2024 codebook with its wave year replaced."""
    with open(source, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "wave_year": str(wave_year)})


@dataclass
class ScaleSpec:
    codebook: Codebook
    segments: list[SegmentDef]
    shapes: dict[str, Shape]
    codebook_path: Path
    seeds: Path


def load_spec(seeds: Path = spec.SEEDS) -> ScaleSpec:
    """The 2024 professional codebook, its segments and answer shapes (shipped files)."""
    codebook_path = seeds / "codebooks" / f"{SURVEY}_{SHAPE_WAVE}.csv"
    codebook = spec.load_codebook(codebook_path)
    segments, _ = spec.load_segments(SURVEY, seeds)
    shipped = seeds / "raw" / f"{SURVEY}_{SHAPE_WAVE}__synthetic.csv"
    shapes = learn_shapes(codebook, segments, shipped)
    return ScaleSpec(codebook, segments, shapes, codebook_path, seeds)


def default_defects(n: int) -> int:
    """Faulty rows per wave by default: one per thousand, at least one of each kind."""
    return max(len(DEFECT_KINDS), n // 1000) if n >= 100 else 0


def write_wave(root: Path, wave_year: int, n: int, *, seed: int = DEFAULT_SEED,
               defects: int | None = None, scale_spec: ScaleSpec | None = None) -> Path:
    """Write `<root>/raw/pro_<year>__scale.csv` and `<root>/codebooks/pro_<year>.csv`."""
    s = scale_spec or load_spec()
    cols = draw_wave(s.codebook, s.segments, s.shapes, n, wave_year, seed)
    start, span = fieldwork(s.seeds, wave_year)
    path = Path(root) / "raw" / f"{SURVEY}_{wave_year}__scale.csv"
    defects = default_defects(n) if defects is None else defects
    write_csv(to_table(cols, s.codebook, wave_year, start, span, seed, defects), path)
    write_codebook(s.codebook_path, Path(root) / "codebooks" / f"{SURVEY}_{wave_year}.csv",
                   wave_year)
    return path


def add_wave_row(seeds_dir: Path, wave_year: int) -> None:
    """A `waves` seed row for a scale wave (synthetic, unweighted), so dim_wave lists it."""
    path = seeds_dir / "waves.csv"
    rows = spec.read_csv_rows(path)
    if any(r["survey"] == SURVEY and int(r["wave_year"]) == wave_year for r in rows):
        return
    template = next(r for r in rows if r["survey"] == SURVEY)
    start, span = fieldwork(seeds_dir, wave_year)
    end = (start + dt.timedelta(seconds=span)).date()
    rows.append({**template, "wave_year": str(wave_year),
                 "title_fr": template["title_fr"] + " (échelle)",
                 "title_en": template["title_en"] + " (scale benchmark)",
                 "fieldwork_start": start.date().isoformat(), "fieldwork_end": end.isoformat(),
                 "publication_date": dt.date(wave_year, 5, 19).isoformat(),
                 "is_synthetic": "true", "is_weighted": "false"})
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def copy_project(dest: Path, source: Path = spec.PROJECT_ROOT, keep_raw: bool = False) -> Path:
    """What dbt needs (settings, models, macros, seeds) copied to dest (replaced if it
    exists), the shipped respondent files removed unless `keep_raw`."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for part in PROJECT_PARTS:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        else:
            shutil.copy2(src, dest / part)
    for raw in () if keep_raw else (dest / "seeds" / "raw").glob("*.csv"):
        raw.unlink()
    return dest


def wave_years(waves: int, first: int = FIRST_WAVE) -> list[int]:
    return list(range(first, first + waves))


def make_project(dest: Path, waves: int, respondents: int, *, seed: int = DEFAULT_SEED,
                 defects: int | None = None, first_wave: int = FIRST_WAVE,
                 log=print) -> list[Path]:
    """A project copy at dest whose landing holds `waves` scale waves of `respondents` each."""
    copy_project(dest)
    s = load_spec()
    paths = []
    for year in wave_years(waves, first_wave):
        started = time.perf_counter()
        paths.append(write_wave(dest / "seeds", year, respondents, seed=seed, defects=defects,
                                scale_spec=s))
        add_wave_row(dest / "seeds", year)
        log(f"  {paths[-1].name}: {respondents:,} respondents in "
            f"{time.perf_counter() - started:.2f} s")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True, help="project copy to create")
    parser.add_argument("--waves", type=int, default=1)
    parser.add_argument("--respondents", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--defects", type=int, default=None,
                        help="faulty rows per wave (default: one per thousand, at least 6)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    make_project(args.dest, args.waves, args.respondents, seed=args.seed, defects=args.defects)
    print(f"{args.waves} × {args.respondents:,} respondents in {args.dest} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
