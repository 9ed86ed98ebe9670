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

import csv
import math
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from observatoire import spec
from observatoire.spec import Codebook, Target
from observatoire.synthetic import anchoring
from observatoire.synthetic.engine import Answers, Engine, Problem, load_problem
from observatoire.synthetic.search import Search

__all__ = ["Answers", "Engine", "Problem", "Search", "generate", "load_problem",
           "write_raw_file"]


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
             max_steps: int = 400_000, log=print, anchored: bool = True
             ) -> list[tuple[Target, float]]:
    """Generate one synthetic raw file; returns the targets left unmet (empty when all met).

    The wave's published figures are the targets, narrowed by the stated changes that involve
    the wave (anchoring.apply_stated_changes). With `anchored`, the search starts from the
    previous wave's respondents (if `seeds/raw/` holds one) and draws from its distributions;
    otherwise, and for questions the previous wave lacks, from `seeds/synthesis_priors.csv`.
    `weights_fn(respondents) -> list[float]` lets a weighted instrument (the public poll) fit
    its targets on weighted figures: weights depend only on quota variables, which the search
    does not change once drawn.
    """
    problem, n = load_problem(codebook_path, targets_path, seeds, log)
    instrument, wave = problem.codebook.instrument, problem.codebook.wave_year
    anchoring.apply_stated_changes(problem, seeds, log)
    anchor = None
    previous = anchoring.previous_wave(instrument, wave, seeds) if anchored else None
    if previous is not None:
        anchor = anchoring.wave_respondents(instrument, previous, seeds, log)[1]
        problem.reference = {**problem.reference,
                             **anchoring.reference_from(anchor, problem.codebook)}
        log(f"  anchored on {instrument} {previous}: {len(anchor)} respondents")
    rng = random.Random(seed)
    log(f"generating {n} synthetic respondents for {instrument} {wave}: "
        f"{len(problem.targets)} targets")
    search = Search(problem, n, rng, anchor=anchor)
    if weights_fn is not None:
        search = Search(problem, n, random.Random(seed), weights=weights_fn(search.respondents),
                        anchor=anchor)
    def progress(step: int, loss: float) -> None:
        unmet = [f"{t.indicator_id}/{t.segment_value}" for t, _ in search.unmet()]
        log(f"  step {step:>7,}: distance {loss:.2f}; unmet: {', '.join(unmet) or 'none'}")

    final = search.run(max_steps, progress=progress)
    if final > 0:
        final = search.polish(log=log)
    duplicates = search.deduplicate()
    log(f"  done: distance {search.total_loss():.3f} ({duplicates} duplicate answer sets made "
        "unique)")
    write_raw_file(out_path, problem.codebook, search.respondents, fieldwork, rng)
    return search.unmet()
