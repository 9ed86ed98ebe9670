"""Landing large files: memory bounded by the batch, not by the file; long values cut in
messages and in the manifest; a cell or a line over the reader's limits named by its row and
column; the same results whatever the batch size.

Every file is generated in pytest's tmp folders from the small test wave
(tests/landing_corpus/make_corpus.py) and landed there, never into seeds/.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from observatoire.conventions import landing_state_root
from observatoire.landing import LandingError, land, parallel, pipeline, readers, store
from observatoire.landing.__main__ import main, report
from observatoire.landing.limits import CELL_MAX_CHARS, QUOTED_MAX_CHARS
from observatoire.spec import PROJECT_ROOT
from tests.landing_corpus import make_corpus as mc


@pytest.fixture
def root(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    mc.write_codebook(landing)
    return landing


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def wave_of(n: int) -> tuple[list[str], list[list[str]]]:
    """n respondents: the small wave's answers repeated, each with its own id."""
    header, rows = mc.small_wave(50)
    return header, [[str(10_000_000 + k), *rows[k % len(rows)][1:]] for k in range(n)]


def test_long_values_are_cut_in_messages_and_the_manifest(root, tmp_path, capsys):
    header, rows = mc.small_wave(8)
    long_value = "x" * 120_000  # under the reader's limit: landed, and quoted in warnings
    column = header.index("gender")
    for row in rows[2:5]:
        row[column] = long_value
    source = write(tmp_path / "in" / "pro_2025.csv", mc.to_csv(header, rows))
    args = ["--instrument", "pro", "--wave", "2025", "--landing-root", str(root),
            "--warehouse", str(tmp_path / "absent.duckdb")]
    assert main([str(source), *args]) == 0
    out = capsys.readouterr().out
    assert long_value not in out and len(out) < 5_000
    result_lines = [line for line in out.splitlines() if "column gender" in line]
    assert len(result_lines) == 3
    cut = f"{'x' * QUOTED_MAX_CHARS}…' (120,000 characters)"
    assert all(cut in line and len(line) < 300 for line in result_lines)
    manifest = store.read_manifest(landing_state_root(root))[-1]
    assert cut in manifest["message"] and len(manifest["message"]) < 500
    assert manifest["rows_quarantined"] == "3"
    # the value itself lands unchanged, for the warehouse's quarantine
    with open(root / "raw" / "pro_2025.csv", newline="", encoding="utf-8") as handle:
        assert [r["gender"] for r in csv.DictReader(handle)][2:5] == [long_value] * 3


def test_a_short_value_is_quoted_whole(root, tmp_path):
    header, rows = mc.small_wave(8)
    rows[3][header.index("gender")] = "y" * QUOTED_MAX_CHARS
    result = land(write(tmp_path / "pro_2025.csv", mc.to_csv(header, rows)), "pro", 2025, root)
    assert f"code '{'y' * QUOTED_MAX_CHARS}' is not" in str(result.warnings[0])


@pytest.mark.parametrize("quote", [False, True])
def test_a_cell_over_the_reader_limit_is_named_by_row_and_column(root, tmp_path, quote):
    header, rows = mc.small_wave(8)
    rows[4][header.index("sector")] = "z" * (CELL_MAX_CHARS + 10) + ("\nmore" if quote else "")
    data = mc.to_csv(header, rows)
    assert data.count(b'"') == (2 if quote else 0)  # csv quotes the cell with a line break
    source = write(tmp_path / "pro_2025.csv", data)
    with pytest.raises(LandingError) as caught:
        land(source, "pro", 2025, root)
    issue = caught.value.issue
    assert (issue.row, issue.column) == (5, "sector"), str(caught.value)
    assert f"{CELL_MAX_CHARS:,} characters" in issue.reason
    assert "unbalanced quote?" not in issue.reason
    # an unreadable file's rows are its lines after the header (the cell's line break too)
    assert caught.value.rows_in == len(data.splitlines()) - 1
    assert not (root / "raw").exists()


def test_a_line_over_the_reader_limit_is_named_by_row_and_column(root, tmp_path, monkeypatch):
    header, rows = mc.small_wave(8)
    column = header.index("limits__3")
    rows[6][column - 1] = "w" * 3_000  # each cell under the cell limit, the line over 5,000
    rows[6][column] = "w" * 3_000
    monkeypatch.setattr(readers, "LINE_MAX_CHARS", 5_000)
    with pytest.raises(LandingError) as caught:
        land(write(tmp_path / "pro_2025.csv", mc.to_csv(header, rows)), "pro", 2025, root)
    issue = caught.value.issue
    assert (issue.row, issue.column) == (7, "limits__3"), str(caught.value)
    assert "line longer than 5,000 characters" in issue.reason


def test_results_do_not_depend_on_the_batch_size(tmp_path):
    """Duplicates, warnings, blank rows and the landed bytes across batch boundaries."""
    header, rows = wave_of(40)
    gender, ai_tried = header.index("gender"), header.index("ai_tried")
    rows[8][0] = rows[1][0]  # a duplicate of row 2, several batches later
    rows[8][gender] = "9"  # and an invalid code on the same row
    rows[20][ai_tried] = "7"
    rows[33][0] = rows[1][0]
    received = [*rows[:5], [""] * len(header), *rows[5:]]  # blank row 6
    source = write(tmp_path / "in" / "pro_2025.csv", mc.to_csv(header, received))
    outcomes = []
    for batch_rows in (1, 3, 7, 1000):
        landing = tmp_path / f"landing_{batch_rows}"
        mc.write_codebook(landing)
        result = land(source, "pro", 2025, landing, batch_rows=batch_rows)
        outcomes.append(([str(w) for w in result.warnings], result.counts, result.message,
                         (landing / "raw" / "pro_2025.csv").read_bytes()))
    assert all(outcome == outcomes[0] for outcome in outcomes[1:])
    warnings, counts, message, _ = outcomes[0]
    # rows of the received file: row 6 is blank, so rows[k] is row k + 1 before it, k + 2 after
    assert [w.split(":")[0] for w in warnings] == [
        "pro_2025.csv row 10, column respondent_id", "pro_2025.csv row 10, column gender",
        "pro_2025.csv row 22, column ai_tried", "pro_2025.csv row 35, column respondent_id"]
    assert "already on row 2" in warnings[0] and "already on row 2" in warnings[3]
    assert counts == {"rows_in": 40, "rows_loaded": 37, "rows_quarantined": 3,
                      "rows_refused": 0}
    assert message.startswith("pro_2025.csv: 1 blank row(s) skipped (row 6")
    assert "4 warning(s) for the warehouse's quarantine: 2 duplicate id(s), 2 invalid code(s)" \
        in message


def _outcome(source: Path, landing: Path, batch_rows: int = 7) -> tuple:
    """What a landing reports and lands, or the refusal's message and counts."""
    mc.write_codebook(landing)
    try:
        result = land(source, "pro", 2025, landing, batch_rows=batch_rows)
    except LandingError as error:
        return str(error), error.rows_in
    return ([str(w) for w in result.warnings], result.warnings_total, result.counts,
            result.message, result.skipped, (landing / "raw" / "pro_2025.csv").read_bytes())


def test_worker_processes_land_what_one_process_lands(tmp_path, monkeypatch):
    """The worker path (parallel.py), in chunks of ~300 characters cut anywhere a line ends,
    gives the single-process results: duplicates across chunks, warnings, blank rows, cells
    the canonical CSV quotes (a delimiter, a quote, a line break, braces), date-times and
    numbers normalised; and a file it gives up on (a row refused, a quote never closed) is
    refused with the single-process words."""
    header, rows = wave_of(60)
    col = {name: header.index(name) for name in ("gender", "ai_tried", "sector", "started_at",
                                                 "ended_at", "limits__3")}
    rows[9][0] = rows[1][0]  # duplicates of row 2, in later chunks
    rows[50][0] = rows[1][0]
    rows[12][col["gender"]] = "9"
    rows[30][col["ai_tried"]] = " 7,0 "
    rows[14][0] = 'id "quoted", {braced}\nand broken'  # quoted by csv, across a line end
    rows[15][col["sector"]] = 'a "b",\n{c}'
    rows[16][0], rows[17][col["sector"]] = "line\nbreak", "carriage\rreturn"  # nothing else
    rows[20][col["started_at"]] = "03/04/2025 10:00:00"
    rows[21][col["ended_at"]] = " 2025-04-03T10:05:00 "
    rows[40][col["limits__3"]] = "1 "
    received = [*rows[:5], [""] * len(header), *rows[5:33], [" "] * len(header), *rows[33:]]
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "PARALLEL_CHUNK_CHARS", 300)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    cases = {"defects": received,
             "refused": [*received[:44], [*received[44][:3], "not a date", *received[44][4:]],
                         *received[45:]]}
    outcomes = {}
    for name, data in cases.items():
        source = write(tmp_path / name / "pro_2025.csv", mc.to_csv(header, data))
        with monkeypatch.context() as single:
            single.setattr(pipeline, "PARALLEL_MIN_BYTES", 10**15)
            outcomes[name] = _outcome(source, tmp_path / name / "one")
        with monkeypatch.context() as workers:
            if name == "defects":  # landed by the workers, not given up
                workers.setattr(pipeline, "_land_in_sequence", None)
            assert _outcome(source, tmp_path / name / "workers") == outcomes[name]
    warnings, total, counts, _, skipped, landed = outcomes["defects"]
    assert [w.split(":")[0] for w in warnings] == [f"pro_2025.csv row {r}, column {c}" for r, c in (
        (11, "respondent_id"), (14, "gender"), (17, "sector"), (19, "sector"), (32, "ai_tried"),
        (53, "respondent_id"))]
    assert "already on row 2" in warnings[5] and "code '7' is not" in warnings[4]
    assert counts["rows_quarantined"] == total == 6 and "rows 6, 35" in skipped[0]
    assert b'"id ""quoted"", {braced}\nand broken",16,2025-' in landed
    assert b'\n"line\nbreak",18,2025-' in landed  # csv.writer does not quote a lone \r:
    assert b',carriage\rreturn,' in landed  # neither does the worker path
    assert "not a date" in outcomes["refused"][0]
    unclosed = mc.to_csv(header, received).replace(b"\r\n1000004", b'\r\n"1000004', 1)
    source = write(tmp_path / "unclosed" / "pro_2025.csv", unclosed)
    with monkeypatch.context() as single:
        single.setattr(pipeline, "PARALLEL_MIN_BYTES", 10**15)
        expected = _outcome(source, tmp_path / "unclosed" / "one")
    assert "unbalanced quote?" in expected[0]
    assert _outcome(source, tmp_path / "unclosed" / "workers") == expected


def test_warnings_past_the_kept_number_are_counted(root, tmp_path, monkeypatch, capsys):
    header, rows = wave_of(30)
    for row in rows[1::2]:
        row[header.index("gender")] = "8"
    for row in rows[10:]:
        row[0] = rows[0][0]
    monkeypatch.setattr(pipeline, "WARNINGS_KEPT", 4)
    source = write(tmp_path / "in" / "pro_2025.csv", mc.to_csv(header, rows))
    result = land(source, "pro", 2025, root, batch_rows=4)
    assert len(result.warnings) == 4 and result.warnings_total == 15 + 20
    assert result.counts["rows_quarantined"] == 5 + 20  # even rows 2..10, then rows 11..30
    assert "35 warning(s) for the warehouse's quarantine: 15 invalid code(s), 20 duplicate " \
        "id(s)" in result.message
    report(result, root, landing_state_root(root), 2)
    assert "  ... and 33 more" in capsys.readouterr().out


PEAK = textwrap.dedent("""
    import sys
    from observatoire.landing import land
    land(sys.argv[1], "pro", 2025, sys.argv[2], state_root=sys.argv[3])
""")


def _landing_peak(source: Path, work: Path) -> int:
    """Peak RSS (bytes) of a process landing `source`, read from the kernel when it ends."""
    landing = work / "landing"
    mc.write_codebook(landing)
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen([sys.executable, "-c", PEAK, str(source), str(landing),
                                  str(work / "state")], cwd=PROJECT_ROOT, stderr=err,
                                 env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        assert child.returncode == 0, err.read().decode()
    return usage.ru_maxrss * 1024


def test_a_large_file_lands_in_bounded_memory(tmp_path):
    """A file of ~8 MB costs the landing process no more than a small one plus a bound set by
    the batch (a few times the file's size here, less for larger files): the whole-file
    reading this replaces needed more than ten times the file."""
    header, rows = wave_of(60_000)
    large = write(tmp_path / "large" / "pro_2025.csv", mc.to_csv(header, rows))
    small = write(tmp_path / "small" / "pro_2025.csv", mc.to_csv(header, rows[:50]))
    size = large.stat().st_size
    assert size > 7_000_000
    extra = _landing_peak(large, tmp_path / "l") - _landing_peak(small, tmp_path / "s")
    assert extra < 6 * size, f"{extra / 2**20:.0f} MiB more for a {size / 2**20:.0f} MiB file"
