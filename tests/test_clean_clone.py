"""A new user's refresh leaves the source tree as they left it.

On a clean clone of the repository (its committed state), the user lands a new wave (2026;
2025 is shipped) of the professional survey — its file, its codebook, its published figures
and a row in `seeds/waves.csv`, the four things they add on purpose — then runs the refresh
(`observatoire run`, as `make run` does). Afterwards `git status` lists exactly those four
changes: neither the landing command nor the run wrote anything else into the tracked tree
(`seeds/`, `expectations/`, ...). Runtime state (landing manifest, warehouse, Great
Expectations run products, reports) belongs under the git-ignored `data/`: in particular the
run's Great Expectations state is under `data/gx/`, never in the GX configuration
(`expectations/`).

One clone, landing and refresh (module fixture `refreshed_clone`) is shared by the tests.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from observatoire.conventions import ENV_DBT_FORK, ENV_DBT_THREADS
from observatoire.spec import PROJECT_ROOT
from tests.conftest import query

WAVE = 2026


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, text=True,
                          capture_output=True).stdout


def _received_file(clone: Path, dest: Path) -> Path:
    """The shipped 2024 professional file as if received for the new wave (timestamps in its
    year: the landing refuses a `started_at` outside the wave year)."""
    source = clone / "seeds" / "raw" / "pro_2024__synthetic.csv"
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    stamps = [header.index("started_at"), header.index("ended_at")]
    for row in rows[1:]:
        for i in stamps:
            row[i] = row[i].replace("2024-", f"{WAVE}-", 1)
    with open(dest, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return dest


def _add_configuration(clone: Path) -> None:
    """What the user writes by hand: the wave's codebook, its published figures (the 2024
    professional figures: the same answers give the same figures) and its row in
    seeds/waves.csv."""
    seeds = clone / "seeds"
    with open(seeds / "published" / "published_figures_2024.csv", newline="",
              encoding="utf-8") as handle:
        figures = [f for f in csv.DictReader(handle) if f["survey"] == "pro"]
    with open(seeds / "published" / f"published_figures_{WAVE}.csv", "w", newline="",
              encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(figures[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**f, "wave_year": str(WAVE)} for f in figures)
    with open(seeds / "codebooks" / "pro_2024.csv", newline="", encoding="utf-8") as handle:
        book = list(csv.DictReader(handle))
    with open(seeds / "codebooks" / f"pro_{WAVE}.csv", "w", newline="",
              encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(book[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "wave_year": str(WAVE)} for row in book)
    with open(seeds / "waves.csv", newline="", encoding="utf-8") as handle:
        waves = list(csv.DictReader(handle))
    template = next(w for w in waves if w["survey"] == "pro")
    waves.append({**template, "wave_year": str(WAVE),
                  **{k: template[k].replace("2024-", f"{WAVE}-")
                     for k in ("fieldwork_start", "fieldwork_end", "publication_date")}})
    with open(seeds / "waves.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(waves[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(waves)


@pytest.fixture(scope="module")
def refreshed_clone(tmp_path_factory):
    """A clean clone where the user landed wave 2026 and ran the refresh (outcomes are
    asserted by the tests)."""
    tmp_path = tmp_path_factory.mktemp("clean_clone")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
    status_before = _git(clone, "status", "--porcelain")
    env = {**os.environ, "PYTHONPATH": str(clone), "DBT_PROFILES_DIR": str(clone),
           "DAGSTER_HOME": str(clone / "data" / "dagster_home"),
           # npm packages of the Data Docs, installed outside the clone (not tracked either)
           "OBSERVATOIRE_VENDOR_DIR": str(PROJECT_ROOT / "vendor")}
    env.pop("OBSERVATOIRE_WAREHOUSE", None)
    env.pop(ENV_DBT_FORK, None)  # a user's dbt runs as a plain subprocess
    env.pop(ENV_DBT_THREADS, None)  # with the profile's threads

    _add_configuration(clone)
    received = _received_file(clone, tmp_path / f"Barometre_IA_pro_{WAVE}.csv")
    landing = subprocess.run(
        [sys.executable, "-m", "observatoire.landing", str(received), "--instrument", "pro",
         "--wave", str(WAVE)], cwd=clone, env=env, text=True, capture_output=True)
    run = None
    if landing.returncode == 0:
        run = subprocess.run([sys.executable, "-m", "observatoire.cli", "run"], cwd=clone,
                             env=env, text=True, capture_output=True)
    return SimpleNamespace(clone=clone, status_before=status_before, landing=landing, run=run)


ADDED = sorted([
    f"?? seeds/codebooks/pro_{WAVE}.csv",
    f"?? seeds/published/published_figures_{WAVE}.csv",
    f"?? seeds/raw/pro_{WAVE}.csv",
    " M seeds/waves.csv",
])


def _refreshed(refreshed_clone) -> Path:
    """The clone, once the landing and the refresh are known to have succeeded."""
    landing, run = refreshed_clone.landing, refreshed_clone.run
    assert landing.returncode == 0, landing.stdout + landing.stderr
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return refreshed_clone.clone


def test_landing_and_refresh_write_only_what_the_user_added(refreshed_clone):
    clone = refreshed_clone.clone
    assert refreshed_clone.status_before == ""
    landing = refreshed_clone.landing
    assert landing.returncode == 0, landing.stdout + landing.stderr
    assert "manifest: data/landing/landing_manifest.csv" in landing.stdout
    # the synthetic 2024 file was copied with its respondents: landed as it came
    assert (clone / "data" / "landing" / "landing_manifest.csv").is_file()

    _refreshed(refreshed_clone)
    # the refresh built the new wave (same answers as 2024: the same number of figures)
    counts = dict(query(clone / "data" / "warehouse.duckdb",
                        "select wave_year, count(*) from marts.fct_indicator "
                        "where survey = 'pro' group by 1"))
    assert counts[WAVE] == counts[2024] > 0

    status = sorted(_git(clone, "status", "--porcelain", "--untracked-files=all").splitlines())
    # outside the Great Expectations project first (the landing and dbt), then everywhere
    assert [line for line in status if not line[3:].startswith("expectations/")] == ADDED
    assert status == ADDED, [line for line in status if line not in ADDED]


def test_refresh_leaves_expectations_untouched(refreshed_clone):
    """The refresh writes nothing into the Great Expectations configuration (`expectations/`)
    nor into `seeds/` beyond the user's additions; the run's GX state is under `data/gx/`."""
    clone = _refreshed(refreshed_clone)
    assert _git(clone, "status", "--porcelain", "--untracked-files=all", "--",
                "expectations") == ""
    assert sorted(_git(clone, "status", "--porcelain", "--untracked-files=all", "--",
                       "seeds").splitlines()) == ADDED
    state = clone / "data" / "gx"
    assert (state / "great_expectations.yml").is_file()
    names = {p.name for p in (state / "validation_definitions").glob("*.json")}
    assert "responses__pro_2024_accepted.json" in names
    assert len(list((state / "uncommitted" / "validations").rglob("*.json"))) == len(names)


def test_the_run_builds_the_site_with_the_new_wave(refreshed_clone):
    """`make run`'s refresh on the clone also publishes the barometer site (data/site/), in
    French and English, and its tables hold the wave the user just landed."""
    site = _refreshed(refreshed_clone) / "data" / "site"
    for home in (site / "index.html", site / "en" / "index.html"):
        assert f"<td>{WAVE}</td>" in home.read_text(encoding="utf-8"), home
    assert (site / "data" / "pro__ai_tried.csv").is_file()
