"""Rough edges met while landing the 2025 wave: a crosswalk row with an empty option key, a
wave without published figures, and `make synth` for a wave already built."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from observatoire import spec
from observatoire.conventions import landing_state_root
from observatoire.landing import LandingError, land
from observatoire.synthetic import synth
from observatoire.synthetic.generator import load_problem
from orchestration.landing import landed_published_figures
from orchestration.partitions import waves_partitions
from tests.orchestration_support import settings_in

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CROSSWALK_HEADER = ("survey,wave_year,question_id,option_key,concept_id,concept_option_key,"
                    "comparability,note\n")


def _seeds_with_crosswalk(tmp_path: Path, rows: str) -> Path:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("archive"))
    (seeds / "crosswalk.csv").write_text(CROSSWALK_HEADER + rows, encoding="utf-8")
    return seeds


def test_empty_option_key_is_refused_by_generator_and_landing(tmp_path):
    seeds = _seeds_with_crosswalk(
        tmp_path, "pro,2024,genai_tried,*,genai_tried,*,comparable,\n"
                  "pro,2024,ai_tried,,ai_tried,,comparable,renamed\n")
    expected = ("row 3, column option_key: empty option_key for pro 2024 question 'ai_tried': "
                "write '*' to map every option of the question")
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace("*", r"\*")):
        load_problem(seeds / "codebooks" / "pro_2024.csv",
                     seeds / "published" / "published_figures_2024.csv", seeds,
                     log=lambda *_: None)
    # the landing step applies the same rule, before writing anything
    (seeds / "raw" / "pro_2024__synthetic.csv").rename(tmp_path / "pro_2024.csv")
    before = sorted(p.name for p in (seeds / "raw").iterdir())
    with pytest.raises(LandingError) as refused:
        land(tmp_path / "pro_2024.csv", "pro", 2024, seeds)
    issue = refused.value.issue
    assert (issue.file, issue.row, issue.column) == ("crosswalk.csv", 3, "option_key")
    assert "write '*' to map every option" in issue.reason
    assert sorted(p.name for p in (seeds / "raw").iterdir()) == before


def test_star_and_explicit_option_keys_still_load(tmp_path):
    seeds = _seeds_with_crosswalk(
        tmp_path, "pro,2025,genai_tried,*,genai_tried,*,comparable,\n"
                  "pro,2025,ai_tried,yes,ai_tried,,comparable,same key\n")
    walk = spec.load_crosswalk("pro", 2025, seeds)
    assert walk == {("genai_tried", "*"): ("genai_tried", "*"),
                    ("ai_tried", "yes"): ("ai_tried", "*")}
    assert spec.harmonise("ai_tried", "yes", walk) == ("ai_tried", "yes")


def test_a_wave_without_published_figures_is_landed_not_a_traceback(tmp_path):
    settings = settings_in(tmp_path)
    published = Path(settings.paths.landing) / "published"
    (published / "published_figures_2025.csv").unlink()
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(waves_partitions.name, ["2024", "2025"])
        result = materialize([landed_published_figures], partition_key="2025",
                             resources={"settings": settings}, instance=instance)
        assert result.success
        [materialization] = result.asset_materializations_for_node(
            "landed__published_figures")
        assert materialization.metadata["rows_by_wave"].data == {"2025": 0}
        messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
        assert any(m.startswith("wave 2025 has no published_figures file") for m in messages)


def test_synth_for_a_wave_already_built_says_how_to_rebuild(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_respondent as select 2031 as wave_year, "
                    "'pro' as survey from range(7)")
    monkeypatch.setenv("OBSERVATOIRE_WAREHOUSE", str(warehouse))
    assert synth.rebuild_hint(2031, "pro") == (
        "next: .venv/bin/observatoire run --wave 2031 --rebuild  (the warehouse holds 7 pro "
        "2031 respondents from the previous file; `make run` alone keeps them)")
    assert synth.rebuild_hint(2032, "pro") == (
        "next: make run (the warehouse does not hold this wave yet)")


def test_regenerating_a_wave_archives_the_previous_file_and_prints_the_hint(tmp_path,
                                                                             monkeypatch):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("archive", "raw"))
    (seeds / "raw").mkdir()
    for name in ("published_changes_2025.csv", "published_figures_2025.csv"):
        (seeds / "published" / name).unlink()
    with open(seeds / "published" / "published_figures_2024.csv", newline="",
              encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["survey"] == "pro"][:6]
    with open(seeds / "published" / "published_figures_2024.csv", "w", newline="",
              encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("OBSERVATOIRE_WAREHOUSE", str(tmp_path / "none.duckdb"))
    lines: list[str] = []
    synth.synthesise(2024, "pro", seeds=seeds, seed=1, steps=2_000, log=lines.append)
    first = (seeds / "raw" / "pro_2024__synthetic.csv").read_bytes()
    archive = landing_state_root(seeds) / "archive"  # runtime state, outside seeds/
    assert not archive.exists()
    synth.synthesise(2024, "pro", seeds=seeds, seed=2, steps=2_000, log=lines.append)
    assert (archive / "pro_2024__synthetic__v1.csv").read_bytes() == first
    assert not (seeds / "archive").exists()
    assert lines[-2:] == [
        f"previous version archived -> {archive / 'pro_2024__synthetic__v1.csv'}",
        f"next: make run (no warehouse yet at {tmp_path / 'none.duckdb'})"]
