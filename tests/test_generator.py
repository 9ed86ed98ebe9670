"""The synthetic generator is driven by data: another targets file gives another wave."""

from __future__ import annotations

import filecmp

from observatoire.synthetic import synth
from tests.conftest import (
    add_made_up_wave_row,
    build,
    copy_project,
    made_up_figures,
    project_copy,
    query,
    write_made_up_figures,
)

# A made-up wave (test fixture, not real figures): other sizes, other values, other precision.
TARGETS_2031 = made_up_figures("generator_2031")


def _write_wave(seeds, year: int, targets) -> None:
    write_made_up_figures(seeds, year, targets)
    codebook = (seeds / "codebooks" / "pro_2024.csv").read_text(encoding="utf-8")
    lines = codebook.splitlines()
    out = [lines[0]] + [line.replace("pro,2024,", f"pro,{year},", 1) for line in lines[1:]]
    (seeds / "codebooks" / f"pro_{year}.csv").write_text("\n".join(out) + "\n", encoding="utf-8")
    add_made_up_wave_row(seeds, year)


def test_second_targets_file_gives_a_wave_that_matches_it(parsed_project, tmp_path):
    project, warehouse = project_copy(parsed_project, tmp_path)
    seeds = project / "seeds"
    _write_wave(seeds, 2031, TARGETS_2031)
    unmet = synth.synthesise(2031, "pro", seeds=seeds, seed=99, steps=300_000, log=lambda *_: None)
    assert unmet == []
    build(project, warehouse)
    rows = query(warehouse, """
        select indicator_id, segment_value, status, computed_value, published_value
        from reports.rpt_published_reconciliation where wave_year = 2031""")
    assert len(rows) == len(TARGETS_2031)
    assert all(r[2] == "reproduced" for r in rows), [r for r in rows if r[2] != "reproduced"]
    # 2024 is still there, untouched by the new wave
    assert query(warehouse, "select count(*) from marts.dim_respondent where wave_year = 2024"
                            " and survey = 'pro'") == [(794,)]


def test_generation_is_deterministic(tmp_path):
    project = copy_project(tmp_path / "project")
    seeds = project / "seeds"
    _write_wave(seeds, 2032, TARGETS_2031[:6])
    first = tmp_path / "first"
    second = tmp_path / "second"
    for out in (first, second):
        synth.synthesise(2032, "pro", seeds=seeds, seed=5, steps=20_000, out_dir=out,
                         log=lambda *_: None)
    name = "pro_2032__synthetic.csv"
    assert filecmp.cmp(first / name, second / name, shallow=False)
    other = tmp_path / "other"
    synth.synthesise(2032, "pro", seeds=seeds, seed=6, steps=20_000, out_dir=other,
                     log=lambda *_: None)
    assert not filecmp.cmp(first / name, other / name, shallow=False)
