"""Check a read table against the codebook and the wave, and normalise it to canonical rows.

`check_structure` raises a LandingError for what refuses the whole file (see the package
docstring); `canonical_rows` returns the canonical rows; `row_issues` lists what the warehouse
will quarantine (codes outside the codebook, duplicate ids), as warnings.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import datetime
from decimal import Decimal

from observatoire.landing.issues import HEADER, Issue, refuse
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


def check_file_name(name: str, wave: int, rows_in: int = 0) -> None:
    """A year in the received file's name must be the wave year."""
    years = YEAR_IN_NAME.findall(name)
    if years and str(wave) not in years:
        raise refuse(name, None, None, f"the file name says {years[0]} but --wave is {wave}: "
                     "is this the right file or the right wave?", rows_in)


def map_columns(table: Table, codebook: Codebook) -> dict[str, int]:
    """Position of each canonical column (and wave columns) in the table; refuses bad headers."""
    expected = canonical_columns(codebook)
    name, rows_in = table.name, len(table.rows)
    keys = [header_key(h) for h in table.header]
    if sum(1 for k in keys if k) == 1 and len(expected) > 1:
        text = next(h for h in table.header if h.strip())
        marks = Counter(c for c in text if not c.isalnum() and c not in "_ ")
        seems = f"it seems separated by {marks.most_common(1)[0][0]!r}; " if marks else ""
        raise refuse(name, HEADER, text[:40], "the header reads as a single column where "
                     f"{len(expected)} are expected: wrong delimiter ({seems}';', ',' and tab "
                     "are accepted)", rows_in)
    positions: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not key:  # an unnamed column is accepted only when it is empty throughout
            filled = next(((r, row[i]) for r, row in table.numbered()
                           if i < len(row) and row[i]), None)
            if filled is not None:
                raise refuse(name, filled[0], f"#{i + 1}", f"value {filled[1]!r} "
                             "in a column without a header", rows_in)
            continue
        if key in positions:
            raise refuse(name, HEADER, table.header[i], f"the column appears twice (columns "
                         f"{positions[key] + 1} and {i + 1})", rows_in)
        positions[key] = i
    allowed = set(expected) | WAVE_COLUMNS
    unknown = [table.header[i] for k, i in positions.items() if k not in allowed]
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


def check_rows(table: Table, positions: dict[str, int], wave: int) -> None:
    """Row by row: cell count, wave columns, respondent id, date-times in the wave year."""
    name, width, rows_in = table.name, len(table.header), len(table.rows)
    waves = [i for k, i in positions.items() if k in WAVE_COLUMNS]
    for r, row in table.numbered():
        if len(row) < width:
            hint = " (another delimiter in the data rows?)" if len(row) == 1 else ""
            raise refuse(name, r, table.header[len(row)], f"truncated row: {len(row)} cell(s) "
                         f"where the header has {width}{hint}", rows_in)
        if len(row) > width:
            raise refuse(name, r, f"#{width + 1}", f"{len(row)} cells where the header has "
                         f"{width}: an unquoted delimiter inside a value?", rows_in)
        for i in waves:
            if row[i] and canonical_number(row[i]) != str(wave):
                raise refuse(name, r, table.header[i], f"wave year {row[i]!r} contradicts "
                             f"--wave {wave}", rows_in)
        if not row[positions["respondent_id"]]:
            raise refuse(name, r, "respondent_id", "empty respondent id", rows_in)
        for column in ("started_at", "ended_at"):
            text = row[positions[column]]
            if not text:
                continue
            stamp = parse_timestamp(text)
            if stamp is None:
                raise refuse(name, r, column, f"{text!r} is not a date-time (expected "
                             "YYYY-MM-DD HH:MM:SS or DD/MM/YYYY HH:MM:SS)", rows_in)
            if column == "started_at" and stamp.year != wave:
                raise refuse(name, r, column, f"started on {stamp:%Y-%m-%d}, outside wave "
                             f"{wave}: wrong file or wrong --wave?", rows_in)


def _label_key(text: str, code: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").casefold()
    text = re.sub(rf"^\s*{re.escape(code)}\s*[-=.:)]\s*", "", text)
    return " ".join(text.split())


def check_value_labels(table: Table, codebook: Codebook) -> list[Issue]:
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
                                      f"({label!r}) is not in the codebook"))
            elif _label_key(label, code) not in {_label_key(option.label_fr, code),
                                                 _label_key(option.label_en, code)}:
                raise refuse(table.name, "value labels", column, f"code {code} is labelled "
                             f"{label!r} in the file but {option.label_fr!r} in the codebook: "
                             "codes may be shifted; fix the export or the codebook",
                             len(table.rows))
    return warnings


def canonical_rows(table: Table, positions: dict[str, int], codebook: Codebook) -> list[list[str]]:
    """Rows in the canonical column order; source_row = row number in the received file."""
    answers = [positions[c] for c in codebook.columns()]
    out = []
    for r, row in table.numbered():
        stamps = []
        for column in ("started_at", "ended_at"):
            text = row[positions[column]]
            stamp = parse_timestamp(text) if text else None
            stamps.append(format_timestamp(stamp) if stamp is not None else "")
        out.append([row[positions["respondent_id"]], str(r), *stamps,
                    *(canonical_number(row[i]) for i in answers)])
    return out


def row_issues(name: str, rows: list[list[str]], codebook: Codebook) -> list[Issue]:
    """What the warehouse will quarantine: codes outside the codebook, duplicate ids."""
    checks: list[tuple[str, set[str] | None, str]] = []
    for q in codebook.questions:
        for column in q.columns():
            if q.qtype == "multi":
                checks.append((column, {"0", "1"}, "multi-select cell {!r} is not 1 or 0"))
            elif q.qtype == "numeric":
                checks.append((column, None, "{!r} is not a number"))
            else:
                codes = [o.code for o in q.options]
                checks.append((column, set(codes), "code {!r} is not in the codebook ("
                               + ", ".join(codes) + ")"))
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for row in rows:
        r = int(row[1])  # source_row: the row in the received file
        first = seen.setdefault(row[0], r)
        if first != r:
            issues.append(Issue(name, r, "respondent_id", f"respondent id {row[0]!r} already on "
                                f"row {first} (the first occurrence is kept)"))
        for (column, accepted, reason), value in zip(checks, row[len(META):], strict=True):
            if not value:
                continue
            if accepted is None:
                if not NUMBER.match(value):
                    issues.append(Issue(name, r, column, reason.format(value)))
            elif value not in accepted:
                issues.append(Issue(name, r, column, reason.format(value)))
    return issues
