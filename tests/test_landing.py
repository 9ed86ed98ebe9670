"""Landing: malformed files are refused or passed to the quarantine with a located message,
the count identity always holds, nothing is lost on refusal, the same wave gives the same
canonical bytes from CSV, XLSX and SPSS, and versions are archived.

Everything is landed into pytest's tmp folders (a copy of the shipped pro codebook renamed to
2025), never into seeds/. The corpus is tests/landing_corpus/ (make_corpus.py writes it).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from observatoire.conventions import landing_state_root
from observatoire.landing import LandingError, land, store
from observatoire.landing.__main__ import main
from observatoire.landing.built import built_version
from observatoire.landing.validate import canonical_number, parse_timestamp
from observatoire.spec import PROJECT_ROOT, load_codebook
from tests.conftest import build, drop_shipped_wave, project_copy, query
from tests.landing_corpus import make_corpus as mc

CORPUS = PROJECT_ROOT / "tests" / "landing_corpus"
REFUSED, QUARANTINED = "refused", "quarantined"
HEADER = "header"

# file -> (outcome, row, column, reason fragment)
EXPECTED = {
    "empty.csv": (REFUSED, HEADER, None, "the file is empty"),
    "header_only.csv": (REFUSED, None, None, "the file has a header and no data rows"),
    "encoding_mixed.csv": (REFUSED, 3, "respondent_id", "byte 0xe9 cannot be decoded as UTF-8"),
    "encoding_undefined_byte.csv": (REFUSED, 2, "respondent_id",
                                    "byte 0x81 is neither UTF-8 nor Windows-1252"),
    "wrong_delimiter.csv": (REFUSED, HEADER, "respondent_id|source_row|started_at|ende",
                            "wrong delimiter (it seems separated by '|'"),
    "missing_column.csv": (REFUSED, HEADER, "ai_tried", "column missing"),
    "unknown_column.csv": (REFUSED, HEADER, "ai_trust", "unknown column"),
    "duplicate_header.csv": (REFUSED, HEADER, "gender", "the column appears twice"),
    "truncated_row.csv": (REFUSED, 5, "use_cases__5", "truncated row: 20 cell(s) where the "
                          "header has 61"),
    "extra_cells.csv": (REFUSED, 3, "#62", "62 cells where the header has 61"),
    "unbalanced_quote.csv": (REFUSED, 4, "source_row", "unbalanced quote"),
    "workbook_named_csv.csv": (REFUSED, HEADER, None, "the content is an XLSX workbook"),
    "empty_id.csv": (REFUSED, 4, "respondent_id", "empty respondent id"),
    "bad_timestamp.csv": (REFUSED, 2, "started_at", "'hier' is not a date-time"),
    "wave_column.csv": (REFUSED, 1, "annee", "wave year '2024' contradicts --wave 2025"),
    "started_outside_wave.csv": (REFUSED, 1, "started_at", "outside wave 2025"),
    "pro_2024_export.csv": (REFUSED, None, None, "the file name says 2024 but --wave is 2025"),
    "sav_label_mismatch.sav": (REFUSED, "value labels", "gender",
                               "code 1 is labelled 'Un homme' in the file but 'Une femme'"),
    "invalid_code.csv": (QUARANTINED, 4, "ai_tried", "code '7' is not in the codebook (1, 2)"),
    "duplicate_ids.csv": (QUARANTINED, 5, "respondent_id", "already on row 2"),
    "multi_not_binary.csv": (QUARANTINED, 2, "profession__1",
                             "multi-select cell '2' is not 1 or 0"),
    "scale_out_of_range.csv": (QUARANTINED, 6, "impact_score", "code '11' is not in the codebook"),
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A landing root holding only the pro 2025 codebook."""
    landing = tmp_path / "landing"
    mc.write_codebook(landing)
    return landing


@pytest.fixture(scope="module")
def codebook(tmp_path_factory):
    return load_codebook(mc.write_codebook(tmp_path_factory.mktemp("codebook")))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(folder.rglob("*"))}


def landing_snapshot(root: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The landing root and its state root (manifest, archive)."""
    return snapshot(root), snapshot(landing_state_root(root))


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def assert_identity(counts: dict[str, int]) -> None:
    assert counts["rows_in"] == (counts["rows_loaded"] + counts["rows_quarantined"]
                                 + counts["rows_refused"]), counts


def assert_names(issue, text: str, name: str, row, column, reason: str) -> None:
    assert (issue.file, issue.row, issue.column) == (name, row, column), str(issue)
    assert reason in issue.reason
    assert text.startswith(name) and reason in text
    if isinstance(row, int):
        assert f"row {row}" in text
    elif row is not None:
        assert row in text
    if column is not None:
        assert f"column {column}" in text


def test_corpus_is_complete():
    files = sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".csv", ".sav"))
    assert len(files) >= 12
    assert set(files) == set(EXPECTED)


def test_corpus_is_what_make_corpus_writes(tmp_path):
    for path in mc.main(tmp_path):
        if path.suffix == ".csv":  # .sav files carry their creation time
            assert path.read_bytes() == (CORPUS / path.name).read_bytes(), path.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name, root):
    outcome, row, column, reason = EXPECTED[name]
    before = landing_snapshot(root)
    if outcome == REFUSED:
        with pytest.raises(LandingError) as caught:
            land(CORPUS / name, "pro", 2025, root)
        error = caught.value
        assert_names(error.issue, str(error), name, row, column, reason)
        assert_identity(error.counts)
        assert error.counts["rows_refused"] == error.rows_in
        assert error.rows_in == (0 if name in ("empty.csv", "header_only.csv",
                                               "workbook_named_csv.csv") else 8)
        assert landing_snapshot(root) == before, "a refused file changed the landing"
        return
    result = land(CORPUS / name, "pro", 2025, root)
    assert result.status == "landed_with_warnings"
    assert len(result.warnings) == 1
    assert_names(result.warnings[0], str(result.warnings[0]), name, row, column, reason)
    assert_identity(result.counts)
    assert result.counts == {"rows_in": 8, "rows_loaded": 7, "rows_quarantined": 1,
                             "rows_refused": 0}
    with open(root / "raw" / "pro_2025.csv", newline="", encoding="utf-8") as handle:
        landed = list(csv.DictReader(handle))
    assert len(landed) == 8 and landed[row - 1]["source_row"] == str(row)
    manifest = store.read_manifest(landing_state_root(root))
    assert [(m["status"], m["rows_in"], m["rows_loaded"], m["rows_quarantined"],
             m["rows_refused"]) for m in manifest] == [("landed_with_warnings", "8", "7", "1", "0")]


def test_passed_through_values_land_unchanged(root):
    land(CORPUS / "invalid_code.csv", "pro", 2025, root)
    with open(root / "raw" / "pro_2025.csv", newline="", encoding="utf-8") as handle:
        landed = list(csv.DictReader(handle))
    assert landed[3]["ai_tried"] == "7"


def _three_formats(tmp_path: Path, codebook) -> dict[str, Path]:
    header, rows = mc.small_wave(30)
    src = tmp_path / "received"
    return {
        "csv": write(src, "pro_2025.csv", mc.french_excel_csv(header, rows)),
        "xlsx": mc.write_xlsx(src / "pro_2025.xlsx", header, rows, codebook),
        "sav": mc.write_sav(src / "pro_2025.sav", header, rows, codebook),
    }


def test_same_wave_from_csv_xlsx_and_sav_is_byte_identical(tmp_path, codebook):
    header, rows = mc.small_wave(30)
    expected = mc.to_csv(header, rows).replace(b"\r\n", b"\n")
    received = _three_formats(tmp_path, codebook)
    assert received["csv"].read_bytes().count(b";") > 30
    assert "Année".encode("cp1252") in received["csv"].read_bytes()
    assert b"/2025 " in received["csv"].read_bytes() and b",0;" in received["csv"].read_bytes()
    landed = {}
    for fmt, path in received.items():
        landing = tmp_path / f"landing_{fmt}"
        mc.write_codebook(landing)
        result = land(path, "pro", 2025, landing, state_root=tmp_path / f"state_{fmt}")
        assert result.counts == {"rows_in": 30, "rows_loaded": 30, "rows_quarantined": 0,
                                 "rows_refused": 0}, fmt
        landed[fmt] = (landing / "raw" / "pro_2025.csv").read_bytes()
    assert "encoding cp1252, delimiter ';'" in store.read_manifest(
        tmp_path / "state_csv")[0]["source_format"]
    assert landed["csv"] == landed["xlsx"] == landed["sav"] == expected


def test_landing_twice_is_a_no_op(root, tmp_path, codebook):
    received = _three_formats(tmp_path, codebook)
    first = land(received["csv"], "pro", 2025, root)
    after_first = landing_snapshot(root)
    again = land(received["csv"], "pro", 2025, root)
    assert (first.status, first.version) == ("landed", 1)
    assert again.status == "unchanged" and again.version == 1
    assert "the same file as version 1" in again.message and "nothing to do" in again.message
    assert landing_snapshot(root) == after_first
    # the same answers in another format are the same content: still nothing to do
    other = land(received["sav"], "pro", 2025, root)
    assert other.status == "unchanged" and "the same content as version 1" in other.message
    assert landing_snapshot(root) == after_first
    assert len(store.read_manifest(landing_state_root(root))) == 1


def test_changed_file_becomes_version_2_and_archives_version_1(root, tmp_path):
    header, rows = mc.small_wave(30)
    first = land(write(tmp_path / "in", "pro_2025.csv", mc.to_csv(header, rows)), "pro", 2025,
                 root)
    v1 = (root / "raw" / "pro_2025.csv").read_bytes()
    second = land(write(tmp_path / "in2", "pro_2025.csv", mc.to_csv(header, rows[:-1])), "pro",
                  2025, root)
    assert (first.version, second.version, second.status) == (1, 2, "landed")
    assert (landing_state_root(root) / "archive" / "pro_2025__v1.csv").read_bytes() == v1
    assert sorted(p.name for p in (root / "raw").iterdir()) == ["pro_2025.csv"]
    assert len((root / "raw" / "pro_2025.csv").read_bytes().splitlines()) == 30
    manifest = store.read_manifest(landing_state_root(root))
    assert [(m["version"], m["rows"], m["archived_previous"]) for m in manifest] == [
        ("1", "30", ""), ("2", "29", "archive/pro_2025__v1.csv")]
    assert manifest[1]["sha256"] == store.sha256_bytes((root / "raw" / "pro_2025.csv").read_bytes())
    assert manifest[0]["sha256"] == store.sha256_bytes(v1)


def test_changed_codebook_is_archived_with_the_version(root, tmp_path):
    header, rows = mc.small_wave()
    source = write(tmp_path / "in", "pro_2025.csv", mc.to_csv(header, rows))
    land(source, "pro", 2025, root)
    old = (root / "codebooks" / "pro_2025.csv").read_bytes()
    edited = write(tmp_path / "cb", "codebook.csv", old.replace(b"Une femme", b"Femme"))
    result = land(source, "pro", 2025, root, codebook=edited)
    assert result.version == 2
    archived = landing_state_root(root) / "archive" / "codebooks" / "pro_2025__v1.csv"
    assert archived.read_bytes() == old
    assert (root / "codebooks" / "pro_2025.csv").read_bytes() == edited.read_bytes()


def test_another_file_of_the_wave_in_raw_is_refused(root, tmp_path):
    header, rows = mc.small_wave()
    write(root / "raw", "pro_2025__synthetic.csv", mc.to_csv(header, rows))
    before = landing_snapshot(root)
    with pytest.raises(LandingError, match=r"pro_2025__synthetic\.csv already holds pro 2025"):
        land(write(tmp_path / "in", "pro_2025.csv", mc.to_csv(header, rows)), "pro", 2025, root)
    assert landing_snapshot(root) == before


def test_codebook_problems_are_refused(tmp_path):
    header, rows = mc.small_wave()
    source = write(tmp_path / "in", "export.csv", mc.to_csv(header, rows))
    (tmp_path / "empty_root").mkdir()
    with pytest.raises(LandingError, match="no codebook for pro 2025: pass --codebook"):
        land(source, "pro", 2025, tmp_path / "empty_root")
    wrong = mc.write_codebook(tmp_path / "other", wave=2026)
    with pytest.raises(LandingError, match="the codebook is for pro 2026, not pro 2025"):
        land(source, "pro", 2025, tmp_path / "empty_root", codebook=wrong)
    assert not any((tmp_path / "empty_root").iterdir())


def test_a_failed_write_restores_everything(root, tmp_path, monkeypatch):
    header, rows = mc.small_wave()
    land(write(tmp_path / "in", "pro_2025.csv", mc.to_csv(header, rows)), "pro", 2025, root)
    before = landing_snapshot(root)
    real = store._write_atomic

    def failing(path, data):
        if path.name == store.MANIFEST:
            raise OSError("disk full")
        real(path, data)

    monkeypatch.setattr(store, "_write_atomic", failing)
    with pytest.raises(OSError, match="disk full"):
        land(write(tmp_path / "in2", "pro_2025.csv", mc.to_csv(header, rows[:3])), "pro", 2025,
             root)
    assert landing_snapshot(root) == before


def test_cli_output_and_exit_codes(root, tmp_path, capsys):
    header, rows = mc.small_wave()
    good = write(tmp_path / "in", "pro_2025.csv", mc.to_csv(header, rows, ";", "cp1252"))
    args = ["--instrument", "pro", "--wave", "2025", "--landing-root", str(root),
            "--warehouse", str(tmp_path / "absent.duckdb")]
    # a root with its own waves file, without pro 2025 (the project's has the shipped one)
    (root / "waves.csv").write_text("wave_year,survey\n", encoding="utf-8")
    assert main([str(good), *args]) == 0
    out = capsys.readouterr().out
    assert "read: csv, encoding utf-8, delimiter ';'" in out
    assert "rows: 8 in = 8 loaded + 0 to quarantine + 0 refused" in out
    assert f"LANDED version 1 -> {root / 'raw' / 'pro_2025.csv'}" in out
    assert "next: add a row for pro 2025" in out
    assert "next: make run" in out
    assert "--rebuild" not in out.split("next: make run")[0]
    assert main([str(good), *args]) == 0
    assert "UNCHANGED" in capsys.readouterr().out
    assert main([str(CORPUS / "invalid_code.csv"), *args]) == 0
    out = capsys.readouterr().out
    assert "invalid_code.csv row 4, column ai_tried: code '7' is not in the codebook (1, 2)" in out
    assert "rows: 8 in = 7 loaded + 1 to quarantine + 0 refused" in out
    assert "archived previous version" in out
    # no warehouse holds the wave: the message says so (never "built from version 1")
    assert "next: make run  (builds version 2;" in out and "never built" in out
    assert "built from" not in out
    assert main([str(CORPUS / "truncated_row.csv"), *args]) == 1
    captured = capsys.readouterr()
    assert "rows: 8 in = 0 loaded + 0 to quarantine + 8 refused" in captured.out
    assert ("LandingError: truncated_row.csv row 5, column use_cases__5: truncated row"
            in captured.err)
    assert "REFUSED: nothing under" in captured.err


def test_header_only_message_names_no_row(root):
    with pytest.raises(LandingError) as caught:
        land(CORPUS / "header_only.csv", "pro", 2025, root)
    assert str(caught.value) == "header_only.csv: the file has a header and no data rows"


@pytest.mark.parametrize("blank", [["", "", ""], []])  # `,,,` cells or an empty line
def test_blank_rows_are_skipped_wherever_they_are_and_named(root, tmp_path, blank):
    """One rule: a blank row in the middle and one at the end are both skipped with a warning
    naming them; the other rows keep their row number in the received file."""
    header, rows = mc.small_wave(6)
    blank = blank and [""] * len(header)
    received = [*rows[:2], blank, *rows[2:], blank]  # blank rows 3 and 8
    source = write(tmp_path / "in", "pro_2025.csv", mc.to_csv(header, received))
    result = land(source, "pro", 2025, root)
    assert result.status == "landed"
    assert result.skipped == ["pro_2025.csv: 2 blank row(s) skipped (rows 3, 8: no cell holds a "
                              "value); the other rows keep their row numbers in source_row"]
    assert result.counts == {"rows_in": 6, "rows_loaded": 6, "rows_quarantined": 0,
                             "rows_refused": 0}
    with open(root / "raw" / "pro_2025.csv", newline="", encoding="utf-8") as handle:
        landed = list(csv.DictReader(handle))
    assert [r["source_row"] for r in landed] == ["1", "2", "4", "5", "6", "7"]
    assert [r["respondent_id"] for r in landed] == [r[0] for r in rows]
    manifest = store.read_manifest(landing_state_root(root))
    assert "rows 3, 8" in manifest[-1]["message"]


def test_only_blank_rows_after_the_header_is_a_header_only_file(root, tmp_path):
    header, _ = mc.small_wave(1)
    source = write(tmp_path / "in", "pro_2025.csv",
                   mc.to_csv(header, [[""] * len(header), [""] * len(header)]))
    with pytest.raises(LandingError) as caught:
        land(source, "pro", 2025, root)
    assert str(caught.value) == ("pro_2025.csv: the file has a header and no data rows "
                                 "(rows 1, 2 blank)")


def test_second_version_message_when_the_wave_was_never_built(root, tmp_path, capsys):
    header, rows = mc.small_wave()
    args = ["--instrument", "pro", "--wave", "2025", "--landing-root", str(root),
            "--warehouse", str(tmp_path / "absent.duckdb")]
    assert main([str(write(tmp_path / "v1", "pro_2025.csv", mc.to_csv(header, rows))),
                 *args]) == 0
    capsys.readouterr()
    assert main([str(write(tmp_path / "v2", "pro_2025.csv", mc.to_csv(header, rows[:5]))),
                 *args]) == 0
    out = capsys.readouterr().out
    assert "LANDED version 2" in out
    assert (f"next: make run  (builds version 2; {tmp_path / 'absent.duckdb'} does not hold "
            "pro 2025: never built;") in out
    assert "built from version" not in out


def test_cli_as_a_module(root):
    done = subprocess.run(
        [sys.executable, "-m", "observatoire.landing", str(CORPUS / "missing_column.csv"),
         "--instrument", "pro", "--wave", "2025", "--landing-root", str(root)],
        capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 1
    assert "missing_column.csv header, column ai_tried: column missing" in done.stderr


@pytest.mark.parametrize("text, expected", [
    ("7", "7"), ("7,0", "7"), ("7.00", "7"), ("7,5", "7.5"), ("1 234,50", "1234.5"),
    ("01", "1"), ("-0", "0"), ("oui", "oui"), ("1.234,5", "1.234,5"), ("", ""),
])
def test_canonical_number(text, expected):
    assert canonical_number(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2025-03-26 09:42:39", "2025-03-26 09:42:39"), ("2025-03-26T09:42:39Z", "2025-03-26 09:42:39"),
    ("26/03/2025 09:42:39", "2025-03-26 09:42:39"), ("26/03/2025 09:42", "2025-03-26 09:42:00"),
    ("26/03/2025", "2025-03-26 00:00:00"),
])
def test_parse_timestamp(text, expected):
    assert f"{parse_timestamp(text):%Y-%m-%d %H:%M:%S}" == expected


def test_utf16_and_bom_exports_are_read(root, tmp_path):
    header, rows = mc.small_wave()
    text = mc.to_csv(header, rows, "\t").decode()
    for name, data in [("utf16.csv", text.encode("utf-16")),
                       ("bom.csv", b"\xef\xbb\xbf" + mc.to_csv(header, rows, ";"))]:
        landing = tmp_path / name
        mc.write_codebook(landing)
        land(write(tmp_path / "in", name, data), "pro", 2025, landing)
        assert (landing / "raw" / "pro_2025.csv").read_bytes() == \
            mc.to_csv(header, rows).replace(b"\r\n", b"\n")


def test_landed_wave_through_dbt(parsed_project, tmp_path, capsys):
    """End to end: the archive and the manifest are not read by dbt (under data/, not seeds/),
    the passed-through rows are quarantined with file and row, and nothing is lost."""
    project, warehouse = project_copy(parsed_project, tmp_path)
    seeds = project / "seeds"
    drop_shipped_wave(seeds, 2025)  # this test lands its own pro 2025
    mc.write_codebook(seeds)
    header, rows = mc.small_wave(12)
    land(write(tmp_path / "v1", "pro_2025.csv", mc.to_csv(header, rows)), "pro", 2025, seeds)
    rows[3][header.index("ai_tried")] = "7"
    rows[6][0] = rows[1][0]
    book = (seeds / "codebooks" / "pro_2025.csv").read_bytes()
    edited = write(tmp_path / "cb", "pro_2025.csv", book.replace(b"A woman", b"Woman"))
    result = land(write(tmp_path / "v2", "pro_2025.csv", mc.to_csv(header, rows)), "pro", 2025,
                  seeds, codebook=edited)
    # two archived files named pro_2025__v1.csv: dbt would refuse them as seeds of one name
    archive = project / "data" / "landing" / "archive"
    assert result.version == 2 and len(list(archive.rglob("pro_2025__v1.csv"))) == 2
    assert not list(seeds.rglob("*__v1.csv")) and not (seeds / store.MANIFEST).exists()
    build(project, warehouse,
          select=["+dq_quarantine", "assert_landed_rows_are_accepted_or_quarantined"])
    landed = query(warehouse, "select count(*) from staging.stg_landed__respondents "
                              "where survey = 'pro' and wave_year = 2025")
    assert landed == [(12,)]
    quarantined = query(warehouse, """
        select distinct check_id, source_file, source_row from marts.dq_quarantine
        where wave_year = 2025 and check_id in ('invalid_code', 'duplicate_id') order by 3""")
    assert quarantined == [("invalid_code", "pro_2025.csv", 4), ("duplicate_id", "pro_2025.csv", 7)]
    assert {(w.row, w.column) for w in result.warnings} == {(4, "ai_tried"), (7, "respondent_id")}
    # the warehouse holds version 2; after landing version 3, the message says so
    state = landing_state_root(seeds)
    assert built_version(warehouse, seeds, state, "pro", 2025) == 2
    assert built_version(tmp_path / "absent.duckdb", seeds, state, "pro", 2025) is None
    third = write(tmp_path / "v3", "pro_2025.csv", mc.to_csv(header, rows[:10]))
    assert main([str(third), "--instrument", "pro", "--wave", "2025", "--landing-root",
                 str(seeds), "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "LANDED version 3" in out
    assert (f"next: .venv/bin/observatoire run --wave 2025 --rebuild  ({warehouse} holds pro "
            "2025 built from version 2; the rebuild replaces it with version 3;") in out
