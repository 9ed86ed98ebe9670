"""Facts stated once in observatoire/conventions.py agree with the two the SQL states as dbt
macros (SQL cannot import Python), and with where they come from."""

from __future__ import annotations

import re

from scipy import stats

from observatoire import conventions
from observatoire.spec import PROJECT_ROOT

MACROS = PROJECT_ROOT / "macros"


def _macro_body(path) -> str:
    text = path.read_text(encoding="utf-8")
    return re.search(r"\{% macro \w+\(\) -%\}\s*(.*?)\s*\{%- endmacro %\}", text, re.S).group(1)


def test_landed_file_pattern_is_the_same_in_sql_and_python():
    sql = _macro_body(MACROS / "files" / "landed_file_pattern.sql")
    assert sql == f"'{conventions.LANDED_FILE_IN_PATH}'"
    in_path = re.compile(conventions.LANDED_FILE_IN_PATH)
    for name, expected in [("pro_2024__synthetic.csv", ("pro", "2024")),
                           ("public_2031.csv", ("public", "2031"))]:
        assert conventions.LANDED_FILE.match(name).group(1, 2) == expected
        assert in_path.search(f"seeds/raw/{name}").groups() == expected
    for name in ("pro_24.csv", "Pro_2024.csv", "pro_2024.xlsx"):
        assert conventions.LANDED_FILE.match(name) is None


def test_z_95_is_the_normal_quantile_in_sql_and_python():
    assert abs(conventions.Z_95 - stats.norm.ppf(0.975)) < 1e-15
    assert float(_macro_body(MACROS / "statistics" / "z_95.sql")) == conventions.Z_95


def test_landing_state_lives_under_data_beside_the_seeds():
    assert conventions.landing_state_root(conventions.SEEDS) == PROJECT_ROOT / "data" / "landing"
