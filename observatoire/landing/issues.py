"""One problem found in a file: where (file, row, column) and why, and the refusal exception."""

from __future__ import annotations

from dataclasses import dataclass

from observatoire.landing.limits import QUOTED_MAX_CHARS

HEADER = "header"  # the `row` of a problem found in the header line


def quoted(value: str) -> str:
    """A value as a message quotes it (repr), cut to QUOTED_MAX_CHARS characters with an
    ellipsis and the value's length when it is longer."""
    if len(value) <= QUOTED_MAX_CHARS:
        return repr(value)
    return f"{value[:QUOTED_MAX_CHARS] + '…'!r} ({len(value):,} characters)"


@dataclass(frozen=True)
class Issue:
    """A located problem. `row` is the data row (1 = first row after the header, the landed
    file's `source_row`), or a place such as HEADER, or None when the whole file is concerned."""

    file: str
    row: int | str | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [] if self.row is None else [
            f"row {self.row}" if isinstance(self.row, int) else str(self.row)]
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{self.file} {', '.join(where)}: {self.reason}" if where else \
            f"{self.file}: {self.reason}"


class LandingError(Exception):
    """The file is refused: nothing under the landing root was changed.

    `rows_in` counts the data rows read (0 when they could not be counted); all of them are
    refused, so the count identity rows_in = loaded + quarantined + refused still holds.
    """

    def __init__(self, issue: Issue, rows_in: int = 0):
        super().__init__(str(issue))
        self.issue = issue
        self.rows_in = rows_in

    @property
    def counts(self) -> dict[str, int]:
        return {"rows_in": self.rows_in, "rows_loaded": 0, "rows_quarantined": 0,
                "rows_refused": self.rows_in}


def refuse(file: str, row: int | str | None, column: str | None, reason: str,
           rows_in: int = 0) -> LandingError:
    return LandingError(Issue(file, row, column, reason), rows_in)
