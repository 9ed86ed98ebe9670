"""Provenance on every figure, and stated changes reconciled, on two waves the test generates:
the shipped 2024 files plus a synthetic 2025 professional wave generated from made-up figures,
with made-up stated changes. The public poll of 2024 is declared real (not synthetic) in the
copy, so the three provenances occur."""

from __future__ import annotations

import csv

import duckdb
import pandas as pd
import pytest

from observatoire.publish import snapshot as publisher
from observatoire.report import trends as report_trends
from observatoire.synthetic import synth
from tests.conftest import (
    COPY_WAREHOUSE,
    add_made_up_wave_row,
    build,
    made_once,
    made_up_figures,
    project_copy,
    query,
    write_made_up_figures,
)

YEAR = 2025
# Made-up published figures of the test wave (not real).
TARGETS = made_up_figures("provenance_2025")
# Made-up stated changes 2024 → 2025: (indicator, segment type, value, change, implied from).
# `ai_tried` all gets its change from the landed files (reproduced); the directors' change is
# the documented exception of the shipped seed; +90 points cannot be reproduced; translation
# pins a 2024 figure that no 2024 publication prints.
CHANGES = [
    ("ai_tried", "profession", "realisateur", 50.0, 46.1),
    ("genai_tried", "all", "all", 90.0, ""),
    ("use_case_traduction", "all", "all", -25.0, 30.0),
]
PROVENANCES = {"measured", "reproduces_published", "synthetic_only"}


def _share_yes(path, column: str) -> float:
    """Share of '1' (yes) among the non-empty answers of a column of a landed file, in %."""
    answers = pd.read_csv(path, dtype=str, keep_default_na=False)[column]
    answered = answers[answers != ""]
    return 100 * (answered == "1").sum() / len(answered)


def _only_2024(seeds) -> None:
    """The copy keeps the 2024 waves only: whatever the project ships for later waves (files,
    waves and crosswalk rows) would collide with the test's wave."""
    for folder in ("codebooks", "published", "raw"):
        for path in (seeds / folder).glob(f"*_{YEAR}*.csv"):
            path.unlink()
    for name in ("waves.csv", "crosswalk.csv"):
        with open(seeds / name, encoding="utf-8") as f:
            rows = list(csv.reader(f))
        year = rows[0].index("wave_year")
        with open(seeds / name, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(
                [rows[0], *(r for r in rows[1:] if r[year] != str(YEAR))])


def _configure(seeds) -> None:
    with open(seeds / "codebooks" / "pro_2024.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with open(seeds / "codebooks" / f"pro_{YEAR}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "wave_year": str(YEAR)} for row in rows)
    waves = (seeds / "waves.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    waves = [line.replace(",true,true,", ",false,true,") if line.startswith("2024,public,")
             else line for line in waves]  # the poll declared real: its figures are measured
    (seeds / "waves.csv").write_text("".join(waves), encoding="utf-8")
    add_made_up_wave_row(seeds, YEAR)
    write_made_up_figures(seeds, YEAR, TARGETS)


def _write_changes(seeds, ai_tried_change: float) -> None:
    """The test's stated changes replace the shipped ones for the same wave."""
    with open(seeds / "published" / f"published_changes_{YEAR}.csv", "w", newline="",
              encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["survey", "indicator_id", "segment_type", "segment_value", "from_wave",
                         "to_wave", "change_points", "printed_decimals", "implied_from_value",
                         "source", "note"])
        writer.writerow(["pro", "ai_tried", "all", "all", 2024, YEAR, ai_tried_change, 1, "",
                         "test fixture", "from the landed files"])
        for indicator, segment_type, segment_value, change, implied in CHANGES:
            writer.writerow(["pro", indicator, segment_type, segment_value, 2024, YEAR, change,
                             1, implied, "test fixture", "made up"])


def _make_two_waves(parsed_project, root) -> None:
    project, warehouse = project_copy(parsed_project, root)
    seeds = project / "seeds"
    _only_2024(seeds)
    _configure(seeds)
    unmet = synth.synthesise(YEAR, "pro", seeds=seeds, seed=11, steps=300_000,
                             log=lambda *_: None)
    assert unmet == []
    raw = seeds / "raw"
    # the stated change computed from the landed files (every respondent is accepted: checked
    # below), rounded to its printed decimal
    ai_tried_change = round(_share_yes(raw / f"pro_{YEAR}__synthetic.csv", "ai_tried")
                            - _share_yes(raw / "pro_2024__synthetic.csv", "ai_tried"), 1)
    _write_changes(seeds, ai_tried_change)
    build(project, warehouse)


@pytest.fixture(scope="session")
def two_waves(parsed_project, tmp_path_factory):
    """The two-wave project and its warehouse, made once in the session (tests/conftest.py
    `made_once`, even across xdist workers): tests read them, or copy them to change them."""
    root = made_once(tmp_path_factory, "provenance",
                     lambda folder: _make_two_waves(parsed_project, folder))
    project = root / "project"
    return {"root": root, "project": project, "warehouse": root / COPY_WAREHOUSE,
            "seeds": project / "seeds"}


def _figures(warehouse) -> dict[tuple, str]:
    rows = query(warehouse, "select wave_year, survey, indicator_id, segment_type, "
                            "segment_value, provenance from marts.fct_indicator")
    return {tuple(r[:5]): r[5] for r in rows}


def _pinned(seeds) -> set[tuple]:
    """Keys the test's publications pin, read from the CSV files themselves."""
    keys = set()
    for year in (2024, YEAR):
        with open(seeds / "published" / f"published_figures_{year}.csv", encoding="utf-8") as f:
            keys |= {(int(r["wave_year"]), r["survey"], r["indicator_id"], r["segment_type"],
                      r["segment_value"]) for r in csv.DictReader(f)}
    with open(seeds / "published" / f"published_changes_{YEAR}.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            key = (r["survey"], r["indicator_id"], r["segment_type"], r["segment_value"])
            keys.add((int(r["to_wave"]), *key))
            if r["implied_from_value"]:
                keys.add((int(r["from_wave"]), *key))
    return keys


def test_every_respondent_accepted(two_waves):
    """The stated change above was computed from the landed files: valid only if none is
    quarantined."""
    assert query(two_waves["warehouse"], "select wave_year, landed_n, respondents_n "
                 "from marts.dim_wave where survey = 'pro' order by 1") == [
        (2024, 794, 794), (YEAR, 600, 600)]


def test_figure_provenance(two_waves):
    figures = _figures(two_waves["warehouse"])
    pinned = _pinned(two_waves["seeds"])
    public = {p for k, p in figures.items() if k[1] == "public"}
    assert public == {"measured"}
    pro = {k: p for k, p in figures.items() if k[1] == "pro"}
    expected = {k: "reproduces_published" if k in pinned else "synthetic_only" for k in pro}
    assert pro == expected
    labelled = sum(1 for k, p in pro.items() if k[0] == YEAR and p == "reproduces_published")
    # 5 test targets, and 4 changes' to-figures of which 1 (ai_tried) is also a target
    assert labelled == 5 + 3
    assert pro[(2024, "pro", "use_case_traduction", "all", "all")] == "reproduces_published"
    assert pro[(2024, "pro", "use_case_traduction", "profession", "scenariste")] \
        == "synthetic_only"


def test_trend_provenance_from_both_ends(two_waves):
    warehouse = two_waves["warehouse"]
    figures = _figures(warehouse)
    rows = query(warehouse, """
        select wave_year, survey, indicator_id, segment_type, segment_value,
            previous_wave_year, provenance
        from marts.fct_indicator_trend""")
    assert len(rows) == len(figures)
    for *key, previous_wave, provenance in rows:
        ends = {figures[tuple(key)]}
        if previous_wave is not None:
            ends.add(figures[(previous_wave, *key[1:])])
        weakest = next(p for p in ("synthetic_only", "reproduces_published", "measured")
                       if p in ends)
        assert provenance == weakest, key
    counts = dict(query(warehouse, "select provenance, count(*) from marts.fct_indicator_trend "
                                   "where wave_year = ? group by all", [YEAR]))
    assert set(counts) == {"synthetic_only", "reproduces_published"}


def test_no_synthetic_only_change_claims_significance(two_waves):
    rows = query(two_waves["warehouse"], """
        select provenance, z_statistic is not null, is_significant_95, count(*)
        from marts.fct_indicator_trend where wave_year = ? group by all""", [YEAR])
    by_key = {(p, has_z, s): n for p, has_z, s, n in rows}
    assert not [k for k in by_key if k[0] == "synthetic_only" and k[2] is not None]
    assert by_key.get(("synthetic_only", True, None), 0) > 100  # z kept, no claim
    # pinned at both ends: significance is computed (true or false, never null with a z)
    assert not [k for k in by_key if k[0] == "reproduces_published" and k[1] and k[2] is None]
    significant = query(two_waves["warehouse"], """
        select is_significant_95 from marts.fct_indicator_trend
        where wave_year = ? and indicator_id = 'ai_tried' and segment_type = 'all'""", [YEAR])
    assert significant == [(True,)]  # about 50 % → 60 % on 794 and 600 respondents


def test_no_z_means_no_significance(two_waves):
    rows = query(two_waves["warehouse"], """
        select comparability, unit, count(*) filter (where is_significant_95 is not null)
        from marts.fct_indicator_trend
        where comparability in ('series_start', 'break') or unit = 'count'
        group by all""")
    assert rows and all(n == 0 for *_, n in rows)
    assert {r[0] for r in rows} >= {"series_start"} and {r[1] for r in rows} >= {"count"}


def test_stated_changes_reconciled(two_waves):
    rows = query(two_waves["warehouse"], """
        select indicator_id, segment_value, status, reason, arithmetic
        from reports.rpt_published_change_reconciliation order by indicator_id, segment_value""")
    by_key = {(r[0], r[1]): r[2:] for r in rows}
    assert len(rows) == 4
    assert by_key[("ai_tried", "all")][0] == "reproduced"
    status, reason, arithmetic = by_key[("ai_tried", "realisateur")]
    assert status == "exception" and "46.1" in reason and "45.5" in reason
    assert "implied 2024 value 46.1; 2024 published 45.5 (implied − published = 0.6)" \
        in arithmetic
    status, reason, _ = by_key[("genai_tried", "all")]
    assert status == "not_reproduced" and reason.endswith("outside [89.95, 90.05]")
    assert by_key[("use_case_traduction", "all")][0] == "not_reproduced"


def test_snapshot_keeps_labelled_rows(two_waves, tmp_path):
    warehouse = two_waves["warehouse"]
    result = publisher.publish(warehouse, tmp_path / "published")
    expected = query(warehouse, "select provenance, count(*) from marts.fct_indicator_trend "
                                "group by all order by all")
    with duckdb.connect(str(result.snapshot), read_only=True) as con:
        assert con.execute("select provenance, count(*) from marts.fct_indicator_trend "
                           "group by all order by all").fetchall() == expected
        assert con.execute("select count(*) from reports.rpt_published_change_reconciliation"
                           ).fetchone() == (4,)
    assert {p for p, _ in expected} == PROVENANCES


def test_report_shows_trends_and_provenance(two_waves):
    with duckdb.connect(str(two_waves["warehouse"]), read_only=True) as con:
        counts = report_trends.provenance_counts(con, YEAR, "pro")
        trends = report_trends.trends_section(con, YEAR, "pro")
        n = dict(con.execute("select provenance, count(*) from marts.fct_indicator "
                             "where wave_year = ? and survey = 'pro' group by all",
                             [YEAR]).fetchall())
    assert (f'synthétique seulement / synthetic only</td><td><span class="num">'
            f'{n["synthetic_only"]}</span>') in counts
    assert "Stated changes — 1 of 4 reproduced" in trends
    assert trends.count("<tr>") == 1 + 4 + 1 + len(
        query(two_waves["warehouse"], "select 1 from marts.fct_indicator_trend "
              "where wave_year = ? and survey = 'pro' and previous_wave_year is not null",
              [YEAR]))


def test_series_falling_to_zero_is_caught(two_waves, tmp_path):
    """Translation ticked by nobody in 2025 (as when a crosswalk maps an option to nothing):
    the build's no_fall_to_zero test fails and names the series."""
    project, warehouse = project_copy(two_waves["root"], tmp_path)
    landed = project / "seeds" / "raw" / f"pro_{YEAR}__synthetic.csv"
    frame = pd.read_csv(landed, dtype=str, keep_default_na=False)
    frame["use_cases__4"] = frame["use_cases__4"].replace("1", "0")  # 4 = traduction
    frame.to_csv(landed, index=False)
    with pytest.raises(RuntimeError, match="no_fall_to_zero_fct_indicator_trend"):
        build(project, warehouse, dbt_vars={"rebuild_waves": [YEAR]})
    fallen = query(warehouse, """
        select distinct indicator_id, segment_type from marts.fct_indicator_trend
        where wave_year = ? and value = 0 and previous_value * base_n >= 10
        order by all""", [YEAR])
    assert fallen == [("use_case_traduction", "all"), ("use_case_traduction", "profession")]


def test_pin_landed_after_the_wave_asks_for_a_rebuild(two_waves, tmp_path):
    """Past waves are immutable: a stated change landed later pins a 2024 figure (its implied
    from-value) and a 2025 one (its to-figure); the provenance_is_current test fails until
    both waves are rebuilt."""
    project, warehouse = project_copy(two_waves["root"], tmp_path)
    key = (2024, "pro", "use_case_traduction", "profession", "scenariste")
    later = (YEAR, *key[1:])
    assert _figures(warehouse)[key] == _figures(warehouse)[later] == "synthetic_only"
    with open(project / "seeds" / "published" / f"published_changes_{YEAR}.csv", "a",
              newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(["pro", *key[2:], 2024, YEAR, 1.0, 1, 30.0, "test", "late"])
    select = ["stg_landed__published_changes+"]
    stale = "fct_indicator_provenance_is_stale__rebuild_its_waves"
    with pytest.raises(RuntimeError, match=stale):
        build(project, warehouse, select=select)
    assert _figures(warehouse)[key] == "synthetic_only"
    with pytest.raises(RuntimeError, match=stale):
        build(project, warehouse, select=select, dbt_vars={"rebuild_waves": [2024]})
    build(project, warehouse, select=select, dbt_vars={"rebuild_waves": [2024, YEAR]})
    assert _figures(warehouse)[key] == _figures(warehouse)[later] == "reproduces_published"
