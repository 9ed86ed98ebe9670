"""Read a received file (CSV, XLSX, SPSS .sav) into a header and rows of text cells.

Nothing is interpreted here beyond turning each cell into text: numbers from Excel and SPSS
without a trailing `.0`, date-times as `YYYY-MM-DD HH:MM:SS` (rounded to the second).
Encoding and delimiter of CSV files are detected; problems that make a file unreadable raise
a LandingError naming the file, row and column.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import numbers
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from observatoire.landing.issues import HEADER, LandingError, refuse

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".sav": "sav", ".zsav": "sav"}
MAGIC = {b"PK\x03\x04": "xlsx", b"$FL2": "sav", b"$FL3": "sav", b"\xd0\xcf\x11\xe0": "xls"}
DELIMITERS = ";,\t"
TIMESTAMP_COLUMNS = ("started_at", "ended_at")
# A valid multi-byte UTF-8 sequence: evidence that a file was meant to be UTF-8.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass
class Table:
    name: str  # the received file's name, used in every message
    fmt: str  # csv | xlsx | sav
    header: list[str]
    rows: list[list[str]]
    encoding: str = ""
    delimiter: str = ""
    # .sav only: column -> code -> value label
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # row number in the received file (1 = first row after the header) of each of `rows`,
    # and the blank rows skipped (see _skip_blank_rows)
    row_numbers: list[int] = field(default_factory=list)
    blank_rows: list[int] = field(default_factory=list)

    def numbered(self):
        """(row number in the received file, cells) of every data row."""
        return zip(self.row_numbers or range(1, len(self.rows) + 1), self.rows, strict=True)


def format_timestamp(value: datetime) -> str:
    """The canonical date-time text, rounded to the second, time zone dropped (wall clock)."""
    if value.microsecond >= 500_000:
        value += timedelta(seconds=1)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def cell_text(value: object) -> str:
    """One cell as text: empty for missing values, integral numbers without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):  # pandas Timestamp included; NaT is a datetime too
        return "" if value != value else format_timestamp(value)
    if isinstance(value, date):
        return format_timestamp(datetime.combine(value, datetime.min.time()))
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value).strip()


def read_table(path: Path, expected_columns: set[str]) -> Table:
    """Read a received file; `expected_columns` helps choose the CSV delimiter."""
    name = path.name
    if not path.is_file():
        raise refuse(name, None, None, f"no such file: {path}")
    data = path.read_bytes()
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise refuse(name, HEADER, None, f"the file is empty ({len(data)} bytes): no header, "
                     "no data rows")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise refuse(name, None, None, f"unsupported file type '{path.suffix}': accepted are "
                     f"{', '.join(sorted(FORMATS))}")
    content = next((kind for magic, kind in MAGIC.items() if data.startswith(magic)), "csv")
    if content != fmt:
        what = {"xls": "an old Excel .xls workbook (save it as .xlsx)", "xlsx": "an XLSX "
                "workbook", "sav": "an SPSS .sav file", "csv": "text"}[content]
        raise refuse(name, HEADER, None, f"the content is {what}, not what the extension "
                     f"'{path.suffix}' says: fix the extension or the export")
    if fmt == "xlsx":
        return _read_xlsx(path)
    if fmt == "sav":
        return _read_sav(path)
    return _read_csv(name, data, expected_columns)


def _guess(data: bytes) -> str:
    """charset-normalizer's guess of an encoding, as a hint for the error message."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with requests
        return ""
    best = from_bytes(data[:200_000]).best()
    return f" (charset-normalizer guesses {best.encoding})" if best is not None else ""


def _locate(data: bytes, offset: int, delimiter: str) -> tuple[int | str, str | None]:
    """(row, column) of a byte offset: row 0 is the header line (no multi-line cells assumed)."""
    line_no = data.count(b"\n", 0, offset)
    lines = data.split(b"\n")
    header = next(csv.reader([lines[0].decode("latin-1").lstrip("\ufeff\xef\xbb\xbf")],
                             delimiter=delimiter))
    start = data.rfind(b"\n", 0, offset) + 1
    before = data[start:offset].decode("latin-1")
    index = len(next(csv.reader([before + "x"], delimiter=delimiter))) - 1
    column = header[index].strip() if index < len(header) else f"#{index + 1}"
    return (HEADER if line_no == 0 else line_no), column


def _count_rows(data: bytes) -> int:
    """Data rows of an undecodable file, for the counts: non-blank lines after the header."""
    return max(0, sum(1 for line in data.splitlines() if line.strip()) - 1)


def decode(name: str, data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise refuse(name, None, None, f"invalid UTF-16 at byte {error.start}") from None
    delimiter = _sniff(data.split(b"\n", 1)[0].decode("latin-1"), set())
    rows_in = _count_rows(data)
    if b"\x00" in data:
        row, column = _locate(data, data.index(b"\x00"), delimiter)
        raise refuse(name, row, column, "NUL byte: this is not a text file in UTF-8 or "
                     f"Windows-1252{_guess(data)}", rows_in)
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(codecs.BOM_UTF8) \
            else "utf-8"
    except UnicodeDecodeError as error:
        if data.startswith(codecs.BOM_UTF8) or UTF8_SEQUENCE.search(data):
            row, column = _locate(data, error.start, delimiter)
            byte = data[error.start:error.start + 1].hex()
            raise refuse(name, row, column, f"byte 0x{byte} cannot be decoded as UTF-8 while "
                         "the rest of the file is UTF-8 (mixed encodings): re-export the whole "
                         "file in one encoding", rows_in) from None
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        row, column = _locate(data, error.start, delimiter)
        byte = data[error.start:error.start + 1].hex()
        raise refuse(name, row, column, f"byte 0x{byte} is neither UTF-8 nor Windows-1252/"
                     "Latin-1 text: re-export the file as UTF-8 CSV",
                     rows_in) from None


def _sniff(header_line: str, expected: set[str]) -> str:
    """The delimiter giving the most expected column names (then the most columns)."""
    try:
        sniffed = csv.Sniffer().sniff(header_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ","

    def score(candidate: str) -> tuple[int, int, bool]:
        cells = next(csv.reader([header_line], delimiter=candidate), [])
        known = sum(c.strip().lower() in expected for c in cells)
        return known, len(cells), candidate == sniffed

    return max(DELIMITERS, key=score)


def _skip_blank_rows(table: Table) -> Table:
    """One rule wherever they are: a row without a single value (an empty line, `;;;;`, an
    empty spreadsheet row) holds no respondent and is skipped; the pipeline warns naming the
    rows, and every other row keeps its row number in the received file (`source_row`)."""
    numbered = list(enumerate(table.rows, 1))
    table.rows = [row for _, row in numbered if any(row)]
    table.row_numbers = [number for number, row in numbered if any(row)]
    table.blank_rows = [number for number, row in numbered if not any(row)]
    return table


def _read_csv(name: str, data: bytes, expected: set[str]) -> Table:
    text, encoding = decode(name, data)
    text = text.lstrip("\ufeff")
    delimiter = _sniff(text.split("\n", 1)[0].rstrip("\r"), expected)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    try:
        rows.extend([cell.strip() for cell in row] for row in reader)
    except csv.Error as error:  # the row that failed is the one after the last row read
        line = (text.splitlines()[len(rows):] or [""])[0]
        index = next((i for i, c in enumerate(line.split(delimiter))
                      if c.strip().startswith('"')), None)
        column = None if index is None or not rows else (
            rows[0][index] if index < len(rows[0]) else f"#{index + 1}")
        raise refuse(name, len(rows) or HEADER, column, f"unreadable CSV ({error}): an "
                     "unbalanced quote?", _count_rows(data)) from None
    table = Table(name, "csv", rows[0], rows[1:], encoding, delimiter)
    return _skip_blank_rows(table)


def _read_xlsx(path: Path) -> Table:
    import pandas as pd

    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            sheets = book.sheet_names
            frame = pd.read_excel(book, sheet_name=sheets[0], header=None, dtype=object)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise refuse(path.name, None, None, f"cannot be read as an XLSX workbook: {error}") \
            from None
    records = [list(r) for r in frame.itertuples(index=False, name=None)]
    if not records:
        raise refuse(path.name, HEADER, None, f"the first sheet '{sheets[0]}' is empty: no "
                     "header, no data rows")
    header = [cell_text(v) for v in records[0]]
    dates = [i for i, h in enumerate(header) if h.strip().lower() in TIMESTAMP_COLUMNS]
    rows = []
    for record in records[1:]:
        for i in dates:  # a date-time cell without a date format arrives as an Excel serial
            if isinstance(record[i], numbers.Real) and not isinstance(record[i], bool) \
                    and not math.isnan(record[i]):
                record[i] = EXCEL_EPOCH + timedelta(days=float(record[i]))
        rows.append([cell_text(v) for v in record])
    table = Table(path.name, "xlsx", header, rows)
    if len(sheets) > 1:
        table.notes.append(f"read the first sheet '{sheets[0]}' of {len(sheets)}")
    return _skip_blank_rows(table)


def _read_sav(path: Path) -> Table:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=False)
    except Exception as error:  # pyreadstat raises its own ReadstatError and others
        raise refuse(path.name, None, None, f"cannot be read as an SPSS .sav file: {error}") \
            from None
    rows = [[cell_text(v) for v in record]
            for record in frame.itertuples(index=False, name=None)]
    labels = {column: {cell_text(code): str(label) for code, label in mapping.items()}
              for column, mapping in (meta.variable_value_labels or {}).items()}
    table = Table(path.name, "sav", [str(c) for c in frame.columns], rows,
                  encoding=meta.file_encoding or "", value_labels=labels)
    return _skip_blank_rows(table)


def describe(table: Table) -> str:
    """`csv, encoding cp1252, delimiter ';'` and the like."""
    parts = [table.fmt]
    if table.encoding:
        parts.append(f"encoding {table.encoding}")
    if table.delimiter:
        parts.append("delimiter " + ("tab" if table.delimiter == "\t" else repr(table.delimiter)))
    return ", ".join(parts)


__all__ = ["LandingError", "Table", "cell_text", "decode", "describe", "format_timestamp",
           "read_table"]
