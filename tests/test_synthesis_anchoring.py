"""Anchored synthesis: what no publication constrains stays flat between synthetic waves, and
every option of a shipped synthetic file has a published figure or a priors row behind it.
Stated changes are joint constraints of two consecutive waves."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pytest

from observatoire import spec
from observatoire.synthetic import anchoring, synth
from tests.conftest import made_up_figures
from tests.test_generator import _write_wave

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Made-up figures (test fixture): the first wave publishes satisfaction and the producers'
# AI expert; the second does not, so those become "unpublished" rows whose level must follow
# the first wave instead of a free draw.
FIGURES = made_up_figures("anchoring_both_waves")
FIRST_ONLY = made_up_figures("anchoring_first_wave_only")


def _seeds(tmp_path: Path) -> Path:
    """A seeds folder with the shipped configuration and no respondent file."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("raw", "archive", "published"))
    (seeds / "raw").mkdir()
    (seeds / "published").mkdir()
    return seeds


def _shares(path: Path, codebook: spec.Codebook) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(question, option, profession or 'all') -> (ticks, answered), read from the raw CSV
    with the csv module only (independent of the generator's own reader)."""
    out: dict[tuple[str, str, str], list[int]] = {}
    professions = {o.code: o.key for o in codebook.by_id()["profession"].options}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            groups = ["all"] + [key for code, key in professions.items()
                                if row[f"profession__{code}"] == "1"]
            for q in codebook.questions:
                if q.question_id == "profession":
                    continue
                for o in q.options:
                    cell = row[f"{q.variable}__{o.code}"] if q.qtype == "multi" else \
                        row[q.variable]
                    if cell == "":
                        continue
                    hit = cell == "1" if q.qtype == "multi" else cell == o.code
                    for g in groups:
                        pair = out.setdefault((q.question_id, o.key, g), [0, 0])
                        pair[0] += hit
                        pair[1] += 1
    return {k: (a, b) for k, (a, b) in out.items()}


def _significant(first, second, skip_questions: set[str]) -> tuple[int, int, list]:
    """Two-proportion z test (pooled) on every share row of both waves not in skip."""
    rows = sig = 0
    worst = []
    for key in sorted(set(first) & set(second)):
        if key[0] in skip_questions:
            continue
        (x1, n1), (x2, n2) = first[key], second[key]
        if n1 < 10 or n2 < 10:
            continue
        pooled = (x1 + x2) / (n1 + n2)
        rows += 1
        if pooled in (0.0, 1.0):
            continue
        z = (x2 / n2 - x1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        if abs(z) >= 1.96:
            sig += 1
            worst.append((key, round(z, 2)))
    return rows, sig, worst


def test_unpublished_rows_stay_flat_between_two_synthetic_waves(tmp_path):
    seeds = _seeds(tmp_path)
    _write_wave(seeds, 2031, FIGURES + FIRST_ONLY)
    _write_wave(seeds, 2032, FIGURES)
    quiet = {"log": lambda *_: None, "steps": 60_000}
    assert synth.synthesise(2031, "pro", seeds=seeds, seed=1, **quiet) == []
    assert synth.synthesise(2032, "pro", seeds=seeds, seed=2, **quiet) == []
    codebook = spec.load_codebook(seeds / "codebooks" / "pro_2032.csv")
    first = _shares(seeds / "raw" / "pro_2031__synthetic.csv", codebook)
    second = _shares(seeds / "raw" / "pro_2032__synthetic.csv", codebook)
    # rows published in the second wave are pinned by it: only the others are compared
    published_questions = {"ai_tried", "genai_tried"}
    rows, sig, worst = _significant(first, second, published_questions)
    assert rows > 200
    assert sig / rows < 0.05, worst
    # the satisfaction published in 2031 only carries over to 2032 (not a fresh draw)
    published = next(float(f[4]) for f in FIRST_ONLY if f[1] == "satisfaction_very_satisfied")
    x, n = second[("satisfaction", "very_satisfied", "all")]
    assert abs(100 * x / n - published) < 4


def test_priors_give_unpublished_splits_instead_of_uniform_draws(tmp_path):
    seeds = _seeds(tmp_path)
    _write_wave(seeds, 2031, FIGURES)
    assert synth.synthesise(2031, "pro", seeds=seeds, seed=3, steps=30_000,
                            log=lambda *_: None) == []
    codebook = spec.load_codebook(seeds / "codebooks" / "pro_2031.csv")
    shares = _shares(seeds / "raw" / "pro_2031__synthetic.csv", codebook)
    # gender is published by no figure: the priors seed says 2 % 'autre', not a third
    x, n = shares[("gender", "autre", "all")]
    assert 100 * x / n < 6
    x, n = shares[("sector", "both", "all")]
    assert 15 < 100 * x / n < 35  # priors: 25.2 %


def _covered(survey: str) -> set[tuple[str, str]]:
    """(question, option) named by a published figure's indicator (any wave)."""
    indicators = spec.load_indicators(survey, SEEDS)
    published = {r["indicator_id"] for path in (SEEDS / "published").glob(
        "published_figures_*.csv") for r in spec.read_csv_rows(path) if r["survey"] == survey}
    out = set()
    for ind in published & set(indicators):
        for key, accepted in indicators[ind].numerator:
            out |= {(key, k) for k in accepted or ()}
    return out


# (survey, wave) of every shipped synthetic file
SHIPPED = sorted((m["instrument"], int(m["wave"])) for p in (SEEDS / "raw").glob("*.csv")
                 if (m := spec.RAW_NAME.match(p.name)) and m["tag"] == "synthetic")


def _options(survey: str, wave: int) -> set[tuple[str, str]]:
    codebook = spec.load_codebook(SEEDS / "codebooks" / f"{survey}_{wave}.csv")
    return {(q.question_id, o.key) for q in codebook.questions for o in q.options}


def _from_margins(survey: str) -> set[tuple[str, str]]:
    """(question, option) of the quota variables, which the generator draws from the population
    margins (`seeds/population_margins.csv`, each row with its source), not from priors."""
    out = set()
    for r in spec.read_csv_rows(SEEDS / "population_margins.csv"):
        if r["survey"] == survey:
            out |= set(zip(r["variable"].split("*"), r["category"].split("*"), strict=True))
    return out


def _priors(survey: str) -> list[dict[str, str]]:
    return [r for r in spec.read_csv_rows(SEEDS / "synthesis_priors.csv") if r["survey"] == survey]


def test_every_shipped_synthetic_file_is_checked():
    assert {("pro", 2024), ("pro", 2025), ("public", 2024)} <= set(SHIPPED)


@pytest.mark.parametrize(("survey", "wave"), SHIPPED)
def test_every_option_of_the_shipped_files_has_a_figure_or_a_prior(survey, wave):
    """No option of a shipped synthetic file is drawn without a published figure, a priors row
    or (quota variables) a population margin behind it; every priors row names an option of
    one of the survey's codebooks and gives its source."""
    rows = _priors(survey)
    priors = {(r["question_id"], r["option_key"]) for r in rows}
    assert _options(survey, wave) - priors - _covered(survey) - _from_margins(survey) == set()
    shipped = set().union(*(_options(s, w) for s, w in SHIPPED if s == survey))
    assert priors <= shipped
    assert all(r["source"].strip() for r in rows)
    # a quota variable follows its margins only: a priors row for it would never be read
    assert priors & _from_margins(survey) == set()


@pytest.mark.parametrize("survey", sorted({s for s, _ in SHIPPED}))
def test_single_choice_priors_sum_to_100(survey):
    books = {q.question_id: q for s, w in SHIPPED if s == survey
             for q in spec.load_codebook(SEEDS / "codebooks" / f"{s}_{w}.csv").questions}
    sums: dict[str, float] = {}
    for r in _priors(survey):
        if books[r["question_id"]].qtype != "multi":
            sums[r["question_id"]] = sums.get(r["question_id"], 0) + float(r["share_pct"])
    assert {q: round(s, 6) for q, s in sums.items() if round(s, 6) != 100} == {}


def test_stated_changes_narrow_both_waves(tmp_path):
    """The earlier wave is pulled to the value the change implies, the later one to the
    earlier wave's computed value plus the change; an undocumented contradiction stops."""
    seeds = _seeds(tmp_path)
    _write_wave(seeds, 2031, FIGURES)
    _write_wave(seeds, 2032, [f if f[1:3] != ("ai_tried", "all") else
                              ("pro", "ai_tried", "all", "all", 63.4, "pct", 1) for f in FIGURES])
    (seeds / "published" / "published_changes_2032.csv").write_text(
        "survey,indicator_id,segment_type,segment_value,from_wave,to_wave,change_points,"
        "printed_decimals,implied_from_value,source,note\n"
        "pro,ai_tried,all,all,2031,2032,11.9,1,51.5,fixture,\n", encoding="utf-8")
    quiet = {"log": lambda *_: None, "steps": 60_000}
    assert synth.synthesise(2031, "pro", seeds=seeds, seed=4, **quiet) == []
    assert synth.synthesise(2032, "pro", seeds=seeds, seed=5, **quiet) == []
    values = {}
    for year in (2031, 2032):
        with open(seeds / "raw" / f"pro_{year}__synthetic.csv", newline="",
                  encoding="utf-8") as handle:
            cells = [r["ai_tried"] for r in csv.DictReader(handle) if r["ai_tried"]]
        values[year] = 100 * cells.count("1") / len(cells)  # code 1 = yes
    assert 51.45 <= values[2031] <= 51.55  # the implied 51.5, inside the published 52
    assert 63.35 <= values[2032] <= 63.45
    assert 11.85 <= values[2032] - values[2031] <= 11.95

    # a change contradicting the published level, not documented: generation refuses
    (seeds / "published" / "published_changes_2032.csv").write_text(
        "survey,indicator_id,segment_type,segment_value,from_wave,to_wave,change_points,"
        "printed_decimals,implied_from_value,source,note\n"
        "pro,ai_tried,all,all,2031,2032,5.0,1,58.4,fixture,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"undocumented contradiction.*ai_tried all=all"):
        synth.synthesise(2031, "pro", seeds=seeds, seed=4, **quiet)
    # documented: the published level is kept and generation goes on
    with open(seeds / "published_exceptions.csv", "a", encoding="utf-8") as handle:
        handle.write("2031,pro,ai_tried,all,all,fixture: 63.4 - 5.0 = 58.4 is not 52\n")
    met = []
    synth.synthesise(2031, "pro", seeds=seeds, seed=4, steps=2_000, log=met.append)
    assert any("documented exception" in line for line in met)


def test_raw_reader_inverts_the_writer():
    codebook = spec.load_codebook(SEEDS / "codebooks" / "pro_2024.csv")
    respondents = anchoring.read_raw_file(SEEDS / "raw" / "pro_2024__synthetic.csv", codebook)
    assert len(respondents) == 794
    with open(SEEDS / "raw" / "pro_2024__synthetic.csv", newline="", encoding="utf-8") as h:
        first = next(csv.DictReader(h))
    yes = first["ai_tried"] == "1"
    assert respondents[0]["ai_tried"] == ("yes" if yes else "no" if first["ai_tried"] else None)
