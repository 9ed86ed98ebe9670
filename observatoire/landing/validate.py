"""Check a read table against the codebook and the wave, and normalise it to canonical rows.

`map_columns` and `check_row` raise a LandingError for what refuses the whole file (see the
package docstring); `Normaliser.batch` checks and normalises a batch of rows column by column
(each distinct value of a column once), returning the canonical columns and the cells the
warehouse will quarantine (codes outside the codebook), or the first row to refuse. Duplicate
ids span batches: the pipeline finds them with DuckDB.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, deque
from datetime import datetime
from decimal import Decimal

from observatoire.landing.issues import HEADER, Issue, LandingError, quoted, refuse
from observatoire.landing.readers import Table, format_timestamp
from observatoire.spec import Codebook

META = ["respondent_id", "source_row", "started_at", "ended_at"]
OPTIONAL = {"source_row"}  # recomputed: the landed file's own row number
WAVE_COLUMNS = {"wave", "wave_year", "annee", "année", "year"}
YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
NUMBER = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+)(?:[.,]\d+)?$")
TIMESTAMP_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S",
                     "%d-%m-%Y %H:%M", "%d.%m.%Y %H:%M:%S")


def canonical_columns(codebook: Codebook) -> list[str]:
    return [*META, *codebook.columns()]


def header_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().lower()


def canonical_number(text: str) -> str:
    """`7,0` -> `7`, `7,5` -> `7.5`, `1 234` -> `1234`; anything else unchanged."""
    if not NUMBER.match(text):
        return text
    value = Decimal(re.sub(r"[ \u00a0\u202f]", "", text).replace(",", "."))
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def parse_timestamp(text: str) -> datetime | None:
    """ISO 8601 or French day-first date-times; None when unparseable."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        pass
    for fmt in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def canonical_stamp(text: str) -> tuple[str, int] | None:
    """(canonical text, year) of a non-empty date-time cell, None when unparseable; a cell
    already canonical (`YYYY-MM-DD HH:MM:SS`, year from 1000) is only validated:
    format_timestamp would give it back."""
    if (len(text) == 19 and text.isascii() and text[0] != "0" and text[4] == text[7] == "-"
            and text[10] == " " and text[13] == text[16] == ":"):
        try:  # succeeds on these separators only if every other character is a digit
            datetime.fromisoformat(text)
            return text, int(text[:4])
        except ValueError:
            pass
    stamp = parse_timestamp(text)
    return None if stamp is None else (format_timestamp(stamp), stamp.year)


def check_file_name(name: str, wave: int, rows_in: int = 0) -> None:
    """A year in the received file's name must be the wave year."""
    years = YEAR_IN_NAME.findall(name)
    if years and str(wave) not in years:
        raise refuse(name, None, None, f"the file name says {years[0]} but --wave is {wave}: "
                     "is this the right file or the right wave?", rows_in)


def map_columns(name: str, header: list[str], codebook: Codebook, rows_in: int = 0,
                filled: dict[int, tuple[int, str]] | None = None) -> dict[str, int]:
    """Position of each canonical column (and wave columns) in the header; refuses bad headers.
    `filled`: the first (row, value) of each column without a header that holds a value."""
    expected = canonical_columns(codebook)
    keys = [header_key(h) for h in header]
    if sum(1 for k in keys if k) == 1 and len(expected) > 1:
        text = next(h for h in header if h.strip())
        marks = Counter(c for c in text if not c.isalnum() and c not in "_ ")
        seems = f"it seems separated by {marks.most_common(1)[0][0]!r}; " if marks else ""
        raise refuse(name, HEADER, text[:40], "the header reads as a single column where "
                     f"{len(expected)} are expected: wrong delimiter ({seems}';', ',' and tab "
                     "are accepted)", rows_in)
    positions: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not key:  # an unnamed column is accepted only when it is empty throughout
            if filled and i in filled:
                raise refuse(name, filled[i][0], f"#{i + 1}", f"value {quoted(filled[i][1])} "
                             "in a column without a header", rows_in)
            continue
        if key in positions:
            raise refuse(name, HEADER, header[i], f"the column appears twice (columns "
                         f"{positions[key] + 1} and {i + 1})", rows_in)
        positions[key] = i
    allowed = set(expected) | WAVE_COLUMNS
    unknown = [header[i] for k, i in positions.items() if k not in allowed]
    missing = [c for c in expected if c not in positions and c not in OPTIONAL]
    if missing:
        more = f" (and {len(missing) - 1} more: {', '.join(missing[1:6])})" if missing[1:] else ""
        hint = f"; the file has unknown column(s) {', '.join(unknown[:5])}: renamed?" \
            if unknown else ""
        raise refuse(name, HEADER, missing[0], f"column missing{more}: the codebook "
                     f"{codebook.instrument}_{codebook.wave_year} expects it{hint}", rows_in)
    if unknown:
        raise refuse(name, HEADER, unknown[0], f"unknown column: not in the codebook "
                     f"{codebook.instrument}_{codebook.wave_year}"
                     + (f" (and {len(unknown) - 1} more)" if unknown[1:] else ""), rows_in)
    return positions


def check_row(name: str, header: list[str], positions: dict[str, int], wave: int, r: int,
              row: list[str], rows_in: int) -> None:
    """One row (stripped cells): cell count, wave columns, respondent id, date-times in the
    wave year."""
    width = len(header)
    if len(row) < width:
        hint = " (another delimiter in the data rows?)" if len(row) == 1 else ""
        raise refuse(name, r, header[len(row)], f"truncated row: {len(row)} cell(s) "
                     f"where the header has {width}{hint}", rows_in)
    if len(row) > width:
        raise refuse(name, r, f"#{width + 1}", f"{len(row)} cells where the header has "
                     f"{width}: an unquoted delimiter inside a value?", rows_in)
    for i in (i for k, i in positions.items() if k in WAVE_COLUMNS):
        if row[i] and canonical_number(row[i]) != str(wave):
            raise refuse(name, r, header[i], f"wave year {quoted(row[i])} contradicts "
                         f"--wave {wave}", rows_in)
    if not row[positions["respondent_id"]]:
        raise refuse(name, r, "respondent_id", "empty respondent id", rows_in)
    for column in ("started_at", "ended_at"):
        text = row[positions[column]]
        if not text:
            continue
        stamp = parse_timestamp(text)
        if stamp is None:
            raise refuse(name, r, column, f"{quoted(text)} is not a date-time (expected "
                         "YYYY-MM-DD HH:MM:SS or DD/MM/YYYY HH:MM:SS)", rows_in)
        if column == "started_at" and stamp.year != wave:
            raise refuse(name, r, column, f"started on {stamp:%Y-%m-%d}, outside wave "
                         f"{wave}: wrong file or wrong --wave?", rows_in)


def _label_key(text: str, code: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").casefold()
    text = re.sub(rf"^\s*{re.escape(code)}\s*[-=.:)]\s*", "", text)
    return " ".join(text.split())


def check_value_labels(table: Table, codebook: Codebook, rows_in: int) -> list[Issue]:
    """SPSS value labels against the codebook: a code labelled differently refuses the file
    (codes may be shifted); a labelled code the codebook lacks is a warning."""
    warnings = []
    questions = {q.variable: q for q in codebook.questions if q.qtype != "multi"}
    for column, mapping in table.value_labels.items():
        question = questions.get(header_key(column))
        if question is None:
            continue
        options = {o.code: o for o in question.options}
        for raw_code, label in mapping.items():
            code = canonical_number(raw_code)
            option = options.get(code)
            if option is None:
                warnings.append(Issue(table.name, "value labels", column, f"code {code} "
                                      f"({quoted(label)}) is not in the codebook"))
            elif _label_key(label, code) not in {_label_key(option.label_fr, code),
                                                 _label_key(option.label_en, code)}:
                raise refuse(table.name, "value labels", column, f"code {code} is labelled "
                             f"{quoted(label)} in the file but {option.label_fr!r} in the "
                             "codebook: codes may be shifted; fix the export or the codebook",
                             rows_in)
    return warnings


Column = list[str] | tuple[str, ...]


def _stripped(column: Column) -> Column:
    strip = {v: s for v in set(column) if (s := v.strip()) != v}
    return [strip.get(v, v) for v in column] if strip else column


def stamps_shape(year: str = "[1-9][0-9]{3}") -> re.Pattern[str]:
    """Lines (`\\n` after each) each empty or a canonical date-time of `year` (a pattern)."""
    return re.compile(f"(?:(?:{year}-[0-9]{{2}}-[0-9]{{2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}})?\n)*")


def _canonical_stamps(column: Column, shape: re.Pattern[str]) -> bool:
    """True when every cell of a stripped date-time column is empty or a valid canonical
    date-time of the years `shape` allows (stamps_shape): canonical_stamp would accept each
    and give it back unchanged. Decided for the whole column at once (one regular expression
    over its cells, one line each, then datetime.fromisoformat on each); False sends the
    column through canonical_stamp cell by cell."""
    text = "\n".join(column) + "\n"
    if text.count("\n") != len(column) or not shape.fullmatch(text):
        return False
    try:
        deque(map(datetime.fromisoformat, filter(None, column)), maxlen=0)
    except ValueError:  # a day, hour... out of range: canonical_stamp refuses it
        return False
    return True


def _first(column: Column, bad: set[str]) -> int | None:
    return next((k for k, v in enumerate(column) if v in bad), None) if bad else None


class Normaliser:
    """Checks and normalises batches of data rows of one file against its codebook: the rules
    of `check_row` (which words the refusal) and the warnings of the warehouse's quarantine,
    decided on each distinct value of a column once."""

    def __init__(self, name: str, header: list[str], positions: dict[str, int],
                 codebook: Codebook, wave: int):
        self.name, self.header, self.positions, self.wave = name, header, positions, wave
        self.waves = [i for k, i in positions.items() if k in WAVE_COLUMNS]
        self.answers = [positions[c] for c in codebook.columns()]
        # started_at must fall in the wave year, ended_at in any year
        self.stamp_shapes = {"started_at": stamps_shape(str(wave)), "ended_at": stamps_shape()}
        self.checks: list[tuple[str, set[str] | None, str]] = []
        for q in codebook.questions:
            for column in q.columns():
                if q.qtype == "multi":
                    self.checks.append((column, {"0", "1"}, "multi-select cell {} is not 1 or 0"))
                elif q.qtype == "numeric":
                    self.checks.append((column, None, "{} is not a number"))
                else:
                    codes = [o.code for o in q.options]
                    self.checks.append((column, set(codes), "code {} is not in the codebook ("
                                        + ", ".join(codes) + ")"))

    def refusal(self, r: int, row: list[str], rows_in: int) -> LandingError:
        """The refusal of a row that fails a check (check_row's words)."""
        try:
            check_row(self.name, self.header, self.positions, self.wave, r,
                      [cell.strip() for cell in row], rows_in)
        except LandingError as error:
            return error
        raise AssertionError(f"row {r} passes check_row")  # pragma: no cover

    def batch(self, numbers: list[int], rows: list[list[str]]
              ) -> tuple[int | None, list[Column], list[tuple[int, int, Issue]]]:
        """(index of the first row to refuse or None, the canonical columns, the warnings as
        (row, column order, Issue)) of rows numbered `numbers` (received cells)."""
        width = len(self.header)
        full = next((k for k, row in enumerate(rows) if len(row) != width), len(rows))
        cells = list(zip(*rows[:full], strict=True)) if full else [()] * width
        firsts: list[int | None] = [None if full == len(rows) else full]
        wave = str(self.wave)
        for i in self.waves:
            column = _stripped(cells[i])
            bad = {v for v in set(column) if v and canonical_number(v) != wave}
            firsts.append(_first(column, bad))
        ids = list(map(str.strip, cells[self.positions["respondent_id"]]))
        firsts.append(_first(ids, {""}))
        stamps: list[Column] = []
        for name in ("started_at", "ended_at"):
            column = list(map(str.strip, cells[self.positions[name]]))
            if _canonical_stamps(column, self.stamp_shapes[name]):
                stamps.append(column)
                continue
            parsed = [canonical_stamp(v) if v else ("", self.wave) for v in column]
            firsts.append(next((k for k, p in enumerate(parsed) if p is None or (
                name == "started_at" and p[1] != self.wave)), None))
            stamps.append([p[0] for p in parsed if p is not None])
        refused = min((k for k in firsts if k is not None), default=None)
        if refused is not None:
            return refused, [], []
        columns: list[Column] = [ids, list(map(str, numbers)), *stamps]
        issues = []
        for order, ((name, accepted, reason), i) in enumerate(
                zip(self.checks, self.answers, strict=True)):
            column = _stripped(cells[i])
            distinct = set(column)
            canonical = {v: c for v in distinct if (c := canonical_number(v)) != v}
            if canonical:
                column = [canonical.get(v, v) for v in column]
                distinct = set(column)
            bad = {v for v in distinct if v and (
                not NUMBER.match(v) if accepted is None else v not in accepted)}
            columns.append(column)
            if bad:
                issues += [(numbers[k], order, Issue(self.name, numbers[k], name,
                                                     reason.format(quoted(v))))
                           for k, v in enumerate(column) if v in bad]
        return None, columns, sorted(issues, key=lambda t: t[:2])


def duplicate_issue(name: str, r: int, respondent_id: str, first: int) -> Issue:
    """A respondent id already met on an earlier row (dbt keeps the first occurrence)."""
    return Issue(name, r, "respondent_id", f"respondent id {quoted(respondent_id)} already on "
                 f"row {first} (the first occurrence is kept)")
