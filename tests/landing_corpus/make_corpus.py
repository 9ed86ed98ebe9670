"""Malformed respondent files for the landing tests, and the small test wave they derive from.

    PYTHONPATH=. .venv/bin/python tests/landing_corpus/make_corpus.py   # rewrites the corpus

The small wave is the first rows of the shipped synthetic pro 2024 file, moved to wave 2025
(dates shifted by one year) and checked against the shipped codebook renamed to 2025. Every
corpus file is that wave with one defect; tests/test_landing.py holds what each must give.
The helpers also write the same wave as a French Excel CSV, an XLSX workbook and an SPSS .sav.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path

from observatoire import spec

CORPUS = Path(__file__).resolve().parent
WAVE = 2025
SOURCE_RAW = spec.SEEDS / "raw" / "pro_2024__synthetic.csv"
SOURCE_CODEBOOK = spec.SEEDS / "codebooks" / "pro_2024.csv"

Rows = list[list[str]]


def small_wave(n: int = 8, wave: int = WAVE) -> tuple[list[str], Rows]:
    """(header, rows) of the first n synthetic 2024 respondents, moved to `wave`."""
    with open(SOURCE_RAW, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [next(reader) for _ in range(n)]
    for row in rows:
        for i in (2, 3):  # started_at, ended_at
            row[i] = row[i].replace("2024-", f"{wave}-", 1)
    return header, rows


def write_codebook(root: Path, wave: int = WAVE) -> Path:
    """The shipped pro codebook renamed to `wave`, at <root>/codebooks/pro_<wave>.csv."""
    with open(SOURCE_CODEBOOK, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        row["wave_year"] = str(wave)
    path = root / "codebooks" / f"pro_{wave}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def to_csv(header: list[str], rows: Rows, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _french_date(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%d/%m/%Y %H:%M:%S") if text else ""


def french_excel_csv(header: list[str], rows: Rows, wave: int = WAVE) -> bytes:
    """As Excel (French locale) saves CSV: `;`, Windows-1252, day-first dates, decimal commas,
    no source_row, an `Année` column, a trailing delimiter and a last empty row."""
    score = header.index("impact_score")
    out_header = ["Année"] + [h for h in header if h != "source_row"] + [""]
    out = []
    for row in rows:
        cells = list(row)
        cells[2], cells[3] = _french_date(cells[2]), _french_date(cells[3])
        if cells[score]:
            cells[score] += ",0"
        out.append([str(wave), *cells[:1], *cells[2:], ""])
    out.append([""] * len(out_header))
    return to_csv(out_header, out, ";", "cp1252")


def _typed_frame(header: list[str], rows: Rows, codebook: spec.Codebook):
    import pandas as pd

    numeric = set(codebook.columns())
    frame = pd.DataFrame(rows, columns=header).drop(columns=["source_row"])
    for column in frame.columns:
        if column in ("started_at", "ended_at"):
            frame[column] = pd.to_datetime(frame[column].replace("", None))
        elif column in numeric or column == "respondent_id":
            frame[column] = pd.to_numeric(frame[column].replace("", None))
    return frame


def write_xlsx(path: Path, header: list[str], rows: Rows, codebook: spec.Codebook) -> Path:
    _typed_frame(header, rows, codebook).to_excel(path, index=False, sheet_name="Données")
    return path


def write_sav(path: Path, header: list[str], rows: Rows, codebook: spec.Codebook,
              relabel: dict[str, dict[float, str]] | None = None) -> Path:
    """An SPSS file with the codebook's French option labels as value labels."""
    import pyreadstat

    labels = {q.variable: {float(o.code): o.label_fr for o in q.options}
              for q in codebook.questions if q.qtype != "multi"}
    labels.update(relabel or {})
    frame = _typed_frame(header, rows, codebook)
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels)
    return path


def _with(rows: Rows, row: int, column: int, value: str) -> Rows:
    out = [list(r) for r in rows]
    out[row - 1][column] = value
    return out


def corpus_files(codebook: spec.Codebook) -> dict[str, bytes]:
    """Every malformed file by name (the .sav is written separately: it is binary)."""
    header, rows = small_wave()
    col = header.index
    utf8_header = ["Année", *header]
    mixed = to_csv(utf8_header, [[str(WAVE), *r] for r in rows])
    mixed = mixed.replace(rows[2][0].encode(), b"A\xe9" + rows[2][0].encode(), 1)
    undefined = to_csv(header, rows).replace(rows[1][0].encode(), b"A\x81" + rows[1][0].encode(), 1)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", (2025, 1, 1, 0, 0, 0)), "<x/>")
    truncated = to_csv(header, rows).split(b"\r\n")
    truncated[5] = b",".join(truncated[5].split(b",")[:20])
    too_long = to_csv(header, rows).split(b"\r\n")
    too_long[3] += b",extra"
    quote = to_csv(header, rows).split(b"\r\n")
    quote[4] = quote[4].replace(b",", b',"', 1)
    _, rows_2024 = small_wave(wave=2024)
    ai_tried = col("ai_tried")
    return {
        "empty.csv": b"",
        "header_only.csv": to_csv(header, []),
        "encoding_mixed.csv": mixed,
        "encoding_undefined_byte.csv": undefined,
        "wrong_delimiter.csv": to_csv(header, rows, "|"),
        "missing_column.csv": to_csv([h for h in header if h != "ai_tried"],
                                     [r[:ai_tried] + r[ai_tried + 1:] for r in rows]),
        "unknown_column.csv": to_csv([*header, "ai_trust"], [[*r, "3"] for r in rows]),
        "duplicate_header.csv": to_csv([*header, "gender"], [[*r, r[col("gender")]] for r in rows]),
        "truncated_row.csv": b"\r\n".join(truncated),
        "extra_cells.csv": b"\r\n".join(too_long),
        "unbalanced_quote.csv": b"\r\n".join(quote),
        "workbook_named_csv.csv": zipped.getvalue(),
        "empty_id.csv": to_csv(header, _with(rows, 4, 0, "")),
        "bad_timestamp.csv": to_csv(header, _with(rows, 2, col("started_at"), "hier")),
        "wave_column.csv": to_csv(["annee", *header], [["2024", *r] for r in rows]),
        "started_outside_wave.csv": to_csv(header, rows_2024),
        "pro_2024_export.csv": to_csv(header, rows),
        "invalid_code.csv": to_csv(header, _with(rows, 4, ai_tried, "7")),
        "duplicate_ids.csv": to_csv(header, _with(rows, 5, 0, rows[1][0])),
        "multi_not_binary.csv": to_csv(header, _with(rows, 2, col("profession__1"), "2")),
        "scale_out_of_range.csv": to_csv(header, _with(rows, 6, col("impact_score"), "11")),
    }


def main(dest: Path = CORPUS) -> list[Path]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        codebook = spec.load_codebook(write_codebook(Path(tmp)))
    written = []
    for name, data in corpus_files(codebook).items():
        (dest / name).write_bytes(data)
        written.append(dest / name)
    header, rows = small_wave()
    gender = {float(o.code): o.label_fr for o in codebook.by_id()["gender"].options}
    swapped = {1.0: gender[2.0], 2.0: gender[1.0], 3.0: gender[3.0]}
    written.append(write_sav(dest / "sav_label_mismatch.sav", header, rows, codebook,
                             {"gender": swapped}))
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS):
        print(path)
