"""The benchmark's smoke test: `bench/run.py` at the smallest size (1 wave × 1,000 respondents,
one repeat) runs end to end and its equality check — dbt's fct_indicator against the
hand-written DuckDB reference and the pandas implementation — ran and passed.

Timings are not asserted (CI machines vary); see docs/benchmarks.md for the measured figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from bench import scale
from observatoire.spec import PROJECT_ROOT


def test_smallest_size_runs_and_the_three_implementations_agree(tmp_path):
    out = tmp_path / "results.json"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "run.py"), "--sizes", "1x1000",
         "--repeats", "1", "--root", str(tmp_path / "bench"), "--json", str(out)],
        cwd=PROJECT_ROOT, env=env, text=True, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [size] = json.loads(out.read_text())
    equality = size["equality"]
    assert equality["checked"] and equality["equal"]
    assert equality["dbt_rows"] > 200  # every pro indicator × segment of the catalogue
    for other in ("reference_sql", "pandas"):
        assert equality[other]["rows"] == equality["dbt_rows"]
        assert equality[other]["mismatches"] == 0
    assert size["tail"]["waves_valid"]  # GX passed on the accepted batch
    assert size["tail"]["quarantined"] == scale.default_defects(1000)  # each defect caught
    added = str(scale.wave_years(2)[-1])  # the wave (e) adds after the first
    assert size["e_rows_per_wave"][added] > 0  # the added wave reached fct_indicator
    for step in ("a", "b", "c", "d", "e"):
        assert size[step]["median_seconds"] > 0 and size[step]["peak_rss_bytes"] > 0


def test_scale_generator_is_deterministic_and_respects_routing(tmp_path):
    spec = scale.load_spec()
    first = scale.draw_wave(spec.codebook, spec.segments, spec.shapes, 5000, 2030)
    again = scale.draw_wave(spec.codebook, spec.segments, spec.shapes, 5000, 2030)
    for qid, codes in first.codes.items():
        assert np.array_equal(codes, again.codes[qid])
    for q in spec.codebook.questions:  # nobody answers a question outside its universe
        asked = first.holds(q.universe)
        assert not (first.answered_mask(q.question_id) & ~asked).any(), q.question_id
        if q.is_required:
            assert first.answered_mask(q.question_id).all(), q.question_id
    path = scale.write_wave(tmp_path, 2030, 5000, defects=0, scale_spec=spec)
    header = path.read_text().splitlines()[0].split(",")
    assert header == ["respondent_id", "source_row", "started_at", "ended_at",
                      *spec.codebook.columns()]
    assert (tmp_path / "codebooks" / "pro_2030.csv").read_text().count(",2030,") > 100
