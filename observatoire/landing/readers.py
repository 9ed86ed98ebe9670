"""Read a received file (CSV, XLSX, SPSS .sav): its header, then its data records as a stream.

Nothing is interpreted here beyond turning each cell into text: numbers from Excel and SPSS
without a trailing `.0`, date-times as `YYYY-MM-DD HH:MM:SS` (rounded to the second).
Encoding and delimiter of CSV files are detected; problems that make a file unreadable raise
a LandingError naming the file, row and column.

A CSV file is never held in memory: its bytes are scanned in chunks of CHUNK_BYTES (encoding,
hash), then its records are parsed one at a time by Python's csv module, which bounds a cell
to CELL_MAX_CHARS and a line to LINE_MAX_CHARS (observatoire/landing/limits.py). Workbooks
and .sav files are read whole by their libraries.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import math
import numbers
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO

from observatoire.landing.issues import HEADER, LandingError, refuse
from observatoire.landing.limits import CELL_MAX_CHARS, CHUNK_BYTES, LINE_MAX_CHARS

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".sav": "sav", ".zsav": "sav"}
MAGIC = {b"PK\x03\x04": "xlsx", b"$FL2": "sav", b"$FL3": "sav", b"\xd0\xcf\x11\xe0": "xls"}
DELIMITERS = ";,\t"
TIMESTAMP_COLUMNS = ("started_at", "ended_at")
# A valid multi-byte UTF-8 sequence: evidence that a file was meant to be UTF-8.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
EXCEL_EPOCH = datetime(1899, 12, 30)
BLANK_BYTES = b" \t\r\n\xef\xbb\xbf"  # a file of these bytes only is empty


@dataclass
class Table:
    name: str  # the received file's name, used in every message
    fmt: str  # csv | xlsx | sav
    header: list[str]
    # the data records in file order (record 1 = the first after the header), blank ones
    # included, each read once; a CSV file is parsed as they are consumed
    records: Iterator[list[str]]
    encoding: str = ""
    delimiter: str = ""
    # .sav only: column -> code -> value label
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source_sha256: str = ""  # of the received file, when reading computed it


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


def _chunks(path: Path, start: int = 0) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(start)
        yield from iter(lambda: handle.read(CHUNK_BYTES), b"")


def read_table(path: Path, expected_columns: set[str]) -> Table:
    """Read a received file; `expected_columns` helps choose the CSV delimiter."""
    name = path.name
    if not path.is_file():
        raise refuse(name, None, None, f"no such file: {path}")
    if not any(chunk.strip(BLANK_BYTES) for chunk in _chunks(path)):
        raise refuse(name, HEADER, None, f"the file is empty ({path.stat().st_size} bytes): no "
                     "header, no data rows")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise refuse(name, None, None, f"unsupported file type '{path.suffix}': accepted are "
                     f"{', '.join(sorted(FORMATS))}")
    with open(path, "rb") as handle:
        head = handle.read(4)
    content = next((kind for magic, kind in MAGIC.items() if head.startswith(magic)), "csv")
    if content != fmt:
        what = {"xls": "an old Excel .xls workbook (save it as .xlsx)", "xlsx": "an XLSX "
                "workbook", "sav": "an SPSS .sav file", "csv": "text"}[content]
        raise refuse(name, HEADER, None, f"the content is {what}, not what the extension "
                     f"'{path.suffix}' says: fix the extension or the export")
    if fmt == "xlsx":
        return _read_xlsx(path)
    if fmt == "sav":
        return _read_sav(path)
    return _read_csv(path, expected_columns)


def _guess(path: Path) -> str:
    """charset-normalizer's guess of an encoding, as a hint for the error message."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with requests
        return ""
    with open(path, "rb") as handle:
        best = from_bytes(handle.read(200_000)).best()
    return f" (charset-normalizer guesses {best.encoding})" if best is not None else ""


def _first_line_bytes(path: Path) -> bytes:
    """The bytes before the first `\\n`."""
    line = b""
    for chunk in _chunks(path):
        end = chunk.find(b"\n")
        if end >= 0:
            return line + chunk[:end]
        line += chunk
    return line


def _locate(path: Path, offset: int, delimiter: str) -> tuple[int | str, str | None]:
    """(row, column) of a byte offset: row 0 is the header line (no multi-line cells assumed)."""
    header = next(csv.reader([_first_line_bytes(path).decode("latin-1")
                              .lstrip("\ufeff\xef\xbb\xbf")], delimiter=delimiter))
    line_no = start = seen = 0
    for chunk in _chunks(path):
        part = chunk[:max(0, offset - seen)]
        line_no += part.count(b"\n")
        if b"\n" in part:
            start = seen + part.rindex(b"\n") + 1
        seen += len(chunk)
        if seen >= offset:
            break
    with open(path, "rb") as handle:
        handle.seek(start)
        before = handle.read(offset - start).decode("latin-1")
    index = len(next(csv.reader([before + "x"], delimiter=delimiter))) - 1
    column = header[index].strip() if index < len(header) else f"#{index + 1}"
    return (HEADER if line_no == 0 else line_no), column


def _count_rows(path: Path) -> int:
    """Data rows of an unreadable file, for the counts: non-blank lines after the header."""
    count, carry = 0, b""
    for chunk in _chunks(path):
        lines = (carry + chunk).splitlines(keepends=True)
        carry = lines.pop() if lines and lines[-1] == lines[-1].rstrip(b"\r\n") else b""
        count += sum(1 for line in lines if line.strip())
    return max(0, count + bool(carry.strip()) - 1)


@dataclass
class _Scan:
    """What one pass over a file's bytes found: its hash, whether it starts with a UTF-16 BOM,
    the offset of its first NUL byte and of its first byte undecodable as UTF-8 (UTF-16)."""

    sha256: str
    utf16: bool
    utf8_bom: bool
    nul: int | None
    undecodable: int | None


def _scan(path: Path) -> _Scan:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        head = handle.read(3)
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8")()
    nul = undecodable = None
    offset = 0
    for chunk in _chunks(path):
        digest.update(chunk)
        if nul is None and not utf16 and (at := chunk.find(b"\x00")) >= 0:
            nul = offset + at
        if undecodable is None:
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                undecodable = offset - pending + error.start
        offset += len(chunk)
    if undecodable is None:
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            undecodable = offset - pending + error.start
    return _Scan(digest.hexdigest(), utf16, head.startswith(codecs.BOM_UTF8), nul, undecodable)


def _utf8_anywhere(path: Path) -> bool:
    tail = b""
    for chunk in _chunks(path):
        if UTF8_SEQUENCE.search(tail + chunk):
            return True
        tail = chunk[-3:]
    return False


def _first_not_cp1252(path: Path) -> int | None:
    offset = 0
    for chunk in _chunks(path):
        try:
            chunk.decode("cp1252")
        except UnicodeDecodeError as error:
            return offset + error.start
        offset += len(chunk)
    return None


def _encoding(path: Path, scan: _Scan) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252; refuses the rest."""
    name = path.name
    if scan.utf16:
        if scan.undecodable is not None:
            raise refuse(name, None, None, f"invalid UTF-16 at byte {scan.undecodable}")
        return "utf-16"
    delimiter = _sniff(_first_line_bytes(path).decode("latin-1"), set())
    if scan.nul is not None:
        row, column = _locate(path, scan.nul, delimiter)
        raise refuse(name, row, column, "NUL byte: this is not a text file in UTF-8 or "
                     f"Windows-1252{_guess(path)}", _count_rows(path))
    if scan.undecodable is None:
        return "utf-8-sig" if scan.utf8_bom else "utf-8"
    if scan.utf8_bom or _utf8_anywhere(path):
        row, column = _locate(path, scan.undecodable, delimiter)
        raise refuse(name, row, column, f"byte 0x{_byte(path, scan.undecodable)} cannot be "
                     "decoded as UTF-8 while the rest of the file is UTF-8 (mixed encodings): "
                     "re-export the whole file in one encoding", _count_rows(path))
    offset = _first_not_cp1252(path)
    if offset is None:
        return "cp1252"
    row, column = _locate(path, offset, delimiter)
    raise refuse(name, row, column, f"byte 0x{_byte(path, offset)} is neither UTF-8 nor "
                 "Windows-1252/Latin-1 text: re-export the file as UTF-8 CSV", _count_rows(path))


def _byte(path: Path, offset: int) -> str:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(1).hex()


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


class _LongLineError(Exception):
    """A physical line longer than LINE_MAX_CHARS."""


def _lines(handle: IO[str], raise_long: bool = True) -> Iterator[str]:
    """The decoded file's physical lines as csv reads them (a leading BOM dropped), each read
    with at most LINE_MAX_CHARS characters; a longer one raises _LongLineError (or is the
    last one yielded)."""
    first = True
    while line := handle.readline(LINE_MAX_CHARS):
        if first:
            line, first = line.lstrip("\ufeff"), False
        if len(line) >= LINE_MAX_CHARS and not line.endswith(("\n", "\r")):
            if raise_long:
                raise _LongLineError
            yield line
            return
        yield line


def _text_line(path: Path, encoding: str, index: int) -> str:
    """`text.splitlines()[index]` of the decoded file (leading BOM dropped), '' past its end."""
    with open(path, encoding=encoding, newline="") as handle:
        carry, seen, first = "", 0, True
        while True:
            chunk = handle.read(CHUNK_BYTES)
            if first:
                chunk, first = chunk.lstrip("\ufeff"), False
            lines = (carry + chunk).splitlines(keepends=True)
            unfinished = lines and (lines[-1].splitlines()[0] == lines[-1]
                                    or lines[-1].endswith("\r"))
            carry = lines.pop() if chunk and unfinished else ""
            if index < seen + len(lines):
                return lines[index - seen].splitlines()[0]
            seen += len(lines)
            if not chunk:
                return ""


def _field_reached(lines: Iterable[str], delimiter: str) -> tuple[int, bool]:
    """(index of the field, True if it passed CELL_MAX_CHARS) of one CSV record given as its
    physical lines: the first field longer than the reader's limit, else the field in which
    the text ends."""
    field_no = size = 0
    quoted = closed = False
    for line in lines:
        for char in line:
            if quoted:
                if char == '"':
                    quoted, closed = False, True
                    continue
            elif char == '"' and closed:  # a doubled quote: one quote character
                quoted, closed = True, False
            elif char == '"' and size == 0:
                quoted = True
                continue
            elif char == delimiter:
                field_no, size, closed = field_no + 1, 0, False
                continue
            elif char in "\r\n":
                return field_no, False
            size += 1
            if size > CELL_MAX_CHARS:
                return field_no, True
    return field_no, False


def _over_limit(path: Path, encoding: str, delimiter: str, header: list[str] | None,
                record: int, start_line: int) -> LandingError:
    """The refusal of a record (`record` records read before it, header included; it starts on
    physical line `start_line`, 0-based) with a cell or a line over the reader's limits."""
    with open(path, encoding=encoding, newline="") as handle:
        lines = _lines(handle, raise_long=False)
        for _ in range(start_line):
            next(lines, None)
        index, cell = _field_reached(lines, delimiter)
    column = None if header is None else (header[index] if index < len(header)
                                          else f"#{index + 1}")
    limit = (f"cell longer than {CELL_MAX_CHARS:,} characters, the reader's limit per cell"
             if cell else f"line longer than {LINE_MAX_CHARS:,} characters, the reader's "
             "limit per line")
    return refuse(path.name, record or HEADER, column, f"{limit}: a value this long is not an "
                  "answer (or a quote opened in this cell is never closed); fix the export",
                  _count_rows(path))


def _csv_records(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """Every record of the file (the header first) as read by csv, parsed as consumed; a
    record that cannot be read raises a LandingError naming its row and column.

    The records are passed on as csv gives them (`yield from`: no Python work per record);
    only when the reader fails is the file read again, record by record, to name the one it
    failed on (_unreadable)."""
    csv.field_size_limit(CELL_MAX_CHARS)
    with open(path, encoding=encoding, newline="") as handle:
        try:
            yield from csv.reader(_lines(handle), delimiter=delimiter, strict=True)
            return
        except (_LongLineError, csv.Error):
            pass
    raise _unreadable(path, encoding, delimiter)


def _unreadable(path: Path, encoding: str, delimiter: str) -> LandingError:
    """The refusal of the first record csv cannot read (the file is read again up to it)."""
    header: list[str] | None = None
    count = 0  # records read, header included
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(_lines(handle), delimiter=delimiter, strict=True)
        while True:
            start = reader.line_num
            try:
                record = next(reader)
            except StopIteration:  # pragma: no cover - the first reading failed
                raise AssertionError(f"{path} reads without error the second time") from None
            except _LongLineError:
                return _over_limit(path, encoding, delimiter, header, count, start)
            except csv.Error as error:
                if str(error).startswith("field larger than field limit"):
                    return _over_limit(path, encoding, delimiter, header, count, start)
                return _unbalanced(path, encoding, delimiter, header, count, error)
            if header is None:
                header = [cell.strip() for cell in record]
            count += 1


def _unbalanced(path: Path, encoding: str, delimiter: str, header: list[str] | None,
                count: int, error: csv.Error) -> LandingError:
    """The refusal of the record after the `count` read: the row, and the column of the first
    cell of its first line that opens a quote."""
    line = _text_line(path, encoding, count)
    index = next((i for i, c in enumerate(line.split(delimiter))
                  if c.strip().startswith('"')), None)
    column = None if index is None or header is None else (
        header[index] if index < len(header) else f"#{index + 1}")
    return refuse(path.name, count or HEADER, column, f"unreadable CSV ({error}): an "
                  "unbalanced quote?", _count_rows(path))


def _first_text_line(path: Path, encoding: str) -> str:
    """The decoded text before the first `\\n` (leading BOM dropped, a final `\\r` too),
    read up to LINE_MAX_CHARS."""
    with open(path, encoding=encoding, newline="") as handle:
        line = ""
        while len(line) < LINE_MAX_CHARS and (chunk := handle.read(CHUNK_BYTES)):
            line += chunk
            if "\n" in chunk:
                break
    return line.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")


def _read_csv(path: Path, expected: set[str]) -> Table:
    scan = _scan(path)
    encoding = _encoding(path, scan)
    delimiter = _sniff(_first_text_line(path, encoding), expected)
    records = _csv_records(path, encoding, delimiter)
    header = [cell.strip() for cell in next(records)]
    return Table(path.name, "csv", header, records, encoding, delimiter,
                 source_sha256=scan.sha256)


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
    table = Table(path.name, "xlsx", header, iter(rows))
    if len(sheets) > 1:
        table.notes.append(f"read the first sheet '{sheets[0]}' of {len(sheets)}")
    return table


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
    return Table(path.name, "sav", [str(c) for c in frame.columns], iter(rows),
                 encoding=meta.file_encoding or "", value_labels=labels)


def describe(table: Table) -> str:
    """`csv, encoding cp1252, delimiter ';'` and the like."""
    parts = [table.fmt]
    if table.encoding:
        parts.append(f"encoding {table.encoding}")
    if table.delimiter:
        parts.append("delimiter " + ("tab" if table.delimiter == "\t" else repr(table.delimiter)))
    return ", ".join(parts)


__all__ = ["LandingError", "Table", "cell_text", "describe", "format_timestamp", "read_table"]
