"""Adding an indicator is one catalogue row: no SQL changes, and the figure is right."""

from __future__ import annotations

import hashlib

import pandas as pd

from tests.conftest import build, project_copy, query


def _sql_fingerprint(project) -> str:
    digest = hashlib.sha256()
    for path in sorted(project.glob("models/**/*.sql")) + sorted(project.glob("macros/**/*.sql")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_new_indicator_needs_only_a_catalogue_row(parsed_project, tmp_path):
    project, warehouse = project_copy(parsed_project, tmp_path)
    before = _sql_fingerprint(project)
    with open(project / "seeds" / "indicator_catalogue.csv", "a", encoding="utf-8") as handle:
        handle.write(
            "training_wanted_by_regular_users,pro,share,training_wanted=yes,"
            "training_wanted=*;segment.usage_frequency=regular_or_daily,,all|gender,"
            "Souhaitent une formation (utilisateurs réguliers),Want training (regular users),"
            "Utilisateurs réguliers,Regular users\n")
    build(project, warehouse)
    assert _sql_fingerprint(project) == before

    rows = {r[0]: (r[1], r[2]) for r in query(warehouse, """
        select segment_value, value, base_n from marts.fct_indicator
        where indicator_id = 'training_wanted_by_regular_users' and segment_type = 'gender'
          and wave_year = 2024""")}

    # The same figure computed independently from the raw file with pandas: codes per codebook
    # (ai_frequency 1 = daily, 2 = regular; training_wanted 1 = yes; gender 1 = femme, 2 = homme).
    raw = pd.read_csv(project / "seeds" / "raw" / "pro_2024__synthetic.csv", dtype=str)
    base = raw[raw["ai_frequency"].isin(["1", "2"]) & raw["training_wanted"].notna()]
    for code, gender in (("1", "femme"), ("2", "homme")):
        group = base[base["gender"] == code]
        expected = (group["training_wanted"] == "1").mean()
        value, base_n = rows[gender]
        assert base_n == len(group)
        assert abs(value - expected) < 1e-12
