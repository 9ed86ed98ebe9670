"""`land()`: read, validate, normalise and store one received file (see the package docstring)."""

from __future__ import annotations

import csv
import hashlib
import heapq
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import duckdb
import pyarrow as pa

from observatoire import spec
from observatoire.conventions import landing_state_root
from observatoire.landing import parallel, store
from observatoire.landing.issues import Issue, LandingError, refuse
from observatoire.landing.limits import (
    BATCH_ROWS,
    DUCKDB_MEMORY_LIMIT,
    PARALLEL_MIN_BYTES,
    ROWS_NAMED,
    WARNINGS_KEPT,
)
from observatoire.landing.parallel import without_blank
from observatoire.landing.readers import Table, describe, read_table
from observatoire.landing.validate import (
    WAVE_COLUMNS,
    Column,
    Normaliser,
    canonical_columns,
    check_file_name,
    check_value_labels,
    duplicate_issue,
    map_columns,
)

INSTRUMENT = re.compile(r"^[a-z]+$")


@dataclass
class LandingResult:
    status: str  # landed | landed_with_warnings | unchanged
    instrument: str
    wave: int
    version: int
    source: Path
    landed: Path
    codebook: Path
    source_description: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_refused: int = 0
    warnings: list[Issue] = field(default_factory=list)  # the first WARNINGS_KEPT
    warnings_total: int = 0
    archived: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # blank rows: nothing to load, named
    message: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {"rows_in": self.rows_in, "rows_loaded": self.rows_loaded,
                "rows_quarantined": self.rows_quarantined, "rows_refused": self.rows_refused}


def _load_codebook(root: Path, instrument: str, wave: int, given: Path | None,
                   source: str) -> tuple[spec.Codebook, bytes]:
    path = given if given is not None else store.codebook_path(root, instrument, wave)
    if not path.is_file():
        if given is not None:
            raise refuse(path.name, None, None, f"no such codebook: {path}")
        raise refuse(source, None, None, f"no codebook for {instrument} {wave}: pass --codebook "
                     f"<file> or put it at {path}")
    try:
        codebook = spec.load_codebook(path)
    except (ValueError, KeyError, UnicodeDecodeError) as error:
        raise refuse(path.name, None, None, f"unreadable codebook ({type(error).__name__}: "
                     f"{error}); it must be a UTF-8 CSV in the format of "
                     "seeds/codebooks/") from None
    if codebook.instrument != instrument or codebook.wave_year != wave:
        raise refuse(path.name, 1, "instrument/wave_year", f"the codebook is for "
                     f"{codebook.instrument} {codebook.wave_year}, not {instrument} {wave}")
    return codebook, path.read_bytes()


def _rows(numbers: list[int], total: int) -> str:
    """`rows 3, 8` for the first ROWS_NAMED of `total` rows."""
    shown = ", ".join(str(n) for n in numbers[:ROWS_NAMED])
    more = f" and {total - ROWS_NAMED} more" if total > ROWS_NAMED else ""
    return f"row{'s' if total > 1 else ''} {shown}{more}"


def blank_rows_warning(name: str, numbers: list[int], total: int) -> str:
    """The warning for skipped blank rows, naming them (rows of the received file)."""
    return (f"{name}: {total} blank row(s) skipped ({_rows(numbers, total)}: no cell holds a "
            "value); the other rows keep their row numbers in source_row")


def _check_crosswalk(root: Path) -> None:
    """The crosswalk the warehouse will apply (the landing root's, else the project's) follows
    the same rule as the generator's (spec.crosswalk_problems)."""
    path = root / "crosswalk.csv"
    path = path if path.exists() else spec.SEEDS / "crosswalk.csv"
    if path.exists():
        for row_no, reason in spec.crosswalk_problems(spec.read_csv_rows(path)):
            raise refuse(path.name, row_no, "option_key", reason)


def _summary(kinds: dict[str, int], first: Issue | None) -> str:
    """`kinds`: warnings counted by kind, in the order each kind first occurs."""
    if first is None:
        return "no problem found"
    listed = ", ".join(f"{n} {kind}(s)" for kind, n in kinds.items())
    return (f"{sum(kinds.values())} warning(s) for the warehouse's quarantine: {listed}; "
            f"first: {first}")


def land(source: Path | str, instrument: str, wave: int, landing_root: Path | str = "seeds",
         codebook: Path | str | None = None, now: datetime | None = None,
         state_root: Path | str | None = None, batch_rows: int = BATCH_ROWS) -> LandingResult:
    """Land one received file; raise LandingError (and change nothing) when it is refused.
    The landed file and its codebook go under `landing_root` (raw/, codebooks/); the manifest
    and the archived versions under `state_root` (default: conventions.landing_state_root,
    `data/landing/` for `seeds/`). The file is read, checked and rewritten `batch_rows` rows at
    a time (the canonical file is written to a hidden scratch folder of the landing root,
    removed before returning)."""
    source, root = Path(source), Path(landing_root)
    state = Path(state_root) if state_root is not None else landing_state_root(root)
    wave = _check_request(source, instrument, wave, root)
    book, book_bytes = _load_codebook(root, instrument, wave,
                                      Path(codebook) if codebook is not None else None,
                                      source.name)
    _check_crosswalk(root)
    with tempfile.TemporaryDirectory(prefix=".landing-", dir=root) as scratch:
        result, data = _normalise(source, instrument, wave, root, book, Path(scratch),
                                  batch_rows)
        _store(result, data, root, state, book_bytes, now)
    return result


def _store(result: LandingResult, data: Canonical, root: Path, state: Path, book_bytes: bytes,
           now: datetime | None) -> None:
    """Write the landed file, its codebook, the archived version and the manifest row (or
    nothing when the landed content is the same)."""
    instrument, wave = result.instrument, result.wave
    with store.locked(root):
        _refuse_other_files(root, result)
        manifest = store.read_manifest(state)
        current = store.current_row(manifest, instrument, wave)
        previous = int(current["version"]) if current else int(result.landed.exists())
        book_changed = (not result.codebook.exists()
                        or result.codebook.read_bytes() != book_bytes)
        if not book_changed and _same_content(result, data, current, previous):
            return
        result.version = previous + 1
        writes = _archive(result, state, previous, book_changed)
        writes += [(result.landed, data.path)] + ([(result.codebook, book_bytes)]
                                                  if book_changed else [])
        row = _manifest_row(result, state, data, book_bytes, now)
        writes.append((state / store.MANIFEST, store.manifest_bytes([*manifest, row])))
        store.commit(Path(os.path.commonpath([root.resolve(), state.resolve()])), writes)


def _check_request(source: Path, instrument: str, wave: int, root: Path) -> int:
    """The wave as an int, once the instrument, the wave and the landing root are valid."""
    if not INSTRUMENT.match(instrument):
        raise refuse(source.name, None, None, f"instrument {instrument!r} must be lowercase "
                     "letters only (it names the landed file <instrument>_<wave>.csv)")
    if not 1900 <= int(wave) <= 2999:
        raise refuse(source.name, None, None, f"wave {wave!r} is not a 4-digit year")
    if not root.is_dir():
        raise refuse(source.name, None, None, f"landing root {root} is not a folder")
    return int(wave)


@dataclass
class Canonical:
    """The canonical file written to the scratch folder, and its hash and size."""

    path: Path
    sha256: str = ""
    size: int = 0
    source_sha256: str = ""


@dataclass
class _Pass:
    """What one pass over the data records found."""

    rows_in: int = 0
    blank: list[int] = field(default_factory=list)  # the first ROWS_NAMED blank rows
    blank_total: int = 0
    filled: dict[int, tuple[int, str]] = field(default_factory=dict)  # unnamed columns
    refused: tuple[int, list[str]] | None = None  # the first row a check refuses
    issues: list[tuple[int, int, Issue]] = field(default_factory=list)  # the first kept
    issues_total: int = 0


class _Checks:
    """The checks across the whole file, in DuckDB (memory bounded by DUCKDB_MEMORY_LIMIT,
    spilling to the scratch folder): duplicate respondent ids and the rows flagged. The ids
    and row numbers are inserted FLUSH_ROWS at a time (fewer, larger inserts)."""

    FLUSH_ROWS = 100_000

    def __init__(self, scratch: Path):
        self.con = duckdb.connect()  # in memory, spilling to the scratch folder
        self.con.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        self.con.execute("set temp_directory = ?", [str(scratch / "spill")])
        self.con.execute("set enable_progress_bar = false")
        self.con.execute("create table ids (respondent_id varchar, source_row bigint)")
        self.con.execute("create table flagged (source_row bigint)")
        self.ids: list[pa.Array] = []
        self.numbers: list[int] = []
        self.flagged: list[int] = []

    def add(self, ids: Column, numbers: list[int], flagged: list[int]) -> None:
        self.ids.append(pa.array(ids, pa.string()))
        self.numbers += numbers
        self.flagged += flagged
        if len(self.numbers) >= self.FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        for table, columns in (
                ("ids", {"respondent_id": pa.concat_arrays(self.ids) if self.ids else
                         pa.array([], pa.string()),
                         "source_row": pa.array(self.numbers, pa.int64())}),
                ("flagged", {"source_row": pa.array(self.flagged, pa.int64())})):
            if len(columns["source_row"]):
                self.con.from_arrow(pa.table(columns)).insert_into(table)
        self.ids, self.numbers, self.flagged = [], [], []

    def duplicates(self, name: str) -> tuple[list[tuple[int, int, Issue]], int, int]:
        """(the first WARNINGS_KEPT duplicate-id warnings, their number, the rows flagged by
        any warning)."""
        self._flush()
        self.con.execute("""
            create table duplicates as
            with firsts as (select respondent_id, min(source_row) as first_row from ids
                            group by respondent_id having count(*) > 1)
            select ids.source_row, ids.respondent_id, firsts.first_row
            from ids join firsts using (respondent_id)
            where ids.source_row > firsts.first_row""")
        kept = self.con.execute("select * from duplicates order by source_row limit ?",
                                [WARNINGS_KEPT]).fetchall()
        total, flagged = self.con.execute(
            "select (select count(*) from duplicates), count(*) from (select source_row from "
            "duplicates union select source_row from flagged)").fetchone() or (0, 0)
        return [(r, -1, duplicate_issue(name, r, i, first)) for r, i, first in kept], total, \
            flagged

    def close(self) -> None:
        self.con.close()


def _batches(table: Table, batch_rows: int, seen: _Pass
             ) -> Iterator[tuple[list[int], list[list[str]]]]:
    """(row numbers, received cells) of the non-blank data rows, at most `batch_rows` at a
    time (the records are taken `batch_rows` at a time); blank rows are counted and named in
    `seen`."""
    start = 1  # the number of the block's first record
    while block := list(islice(table.records, batch_rows)):
        numbers, rows, blank = without_blank(list(range(start, start + len(block))), block)
        start += len(block)
        seen.blank_total += len(blank)
        seen.blank += blank[:ROWS_NAMED - len(seen.blank)]
        if rows:
            yield numbers, rows


def _first_filled(header: list[str], numbers: list[int], rows: list[list[str]],
                  seen: _Pass) -> None:
    """The first value of each column without a header, in `seen.filled`."""
    for i, name in enumerate(header):
        if not name.strip() and i not in seen.filled:
            found = next(((r, row[i].strip()) for r, row in zip(numbers, rows, strict=True)
                          if i < len(row) and row[i].strip()), None)
            if found is not None:
                seen.filled[i] = found


def _normalise(source: Path, instrument: str, wave: int, root: Path, book: spec.Codebook,
               scratch: Path, batch_rows: int) -> tuple[LandingResult, Canonical]:
    """Read and check the received file against the codebook in one pass, writing the
    canonical file to `scratch`: the result to report (version still 1) and that file.
    Refusals keep the order of the checks (reading, file name, header, rows, labels), so the
    one reported is the first in that order, whatever its place in the file."""
    table = read_table(source, set(canonical_columns(book)) | WAVE_COLUMNS)
    try:
        positions: dict[str, int] | None = map_columns(source.name, table.header, book)
    except LandingError:  # refused below, once the rows are counted
        positions = None
    out = Canonical(scratch / "canonical.tmp")
    normaliser = Normaliser(source.name, table.header, positions, book, wave) \
        if positions else None
    checks = _Checks(scratch)
    try:
        seen = None
        if normaliser and _in_parallel(source, table):
            try:
                seen = _land_in_parallel(source, table, normaliser, batch_rows, out,
                                         canonical_columns(book), checks)
            except parallel.GiveUpError:  # landed again in one process, which words the refusal
                checks.close()
                checks = _Checks(scratch)
        if seen is None:
            seen = _land_in_sequence(table, normaliser, batch_rows, out,
                                     canonical_columns(book), checks)
        check_file_name(source.name, wave, seen.rows_in)
        if not seen.rows_in:
            blank = f" ({_rows(seen.blank, seen.blank_total)} blank)" if seen.blank else ""
            raise refuse(source.name, None, None, "the file has a header and no data "
                         f"rows{blank}")
        positions = map_columns(source.name, table.header, book, seen.rows_in, seen.filled)
        if normaliser and seen.refused is not None:
            raise normaliser.refusal(*seen.refused, seen.rows_in)
        label_warnings = check_value_labels(table, book, seen.rows_in)
        duplicates, duplicates_total, flagged = checks.duplicates(source.name)
    finally:
        checks.close()
    warnings = [t[2] for t in heapq.merge(duplicates, seen.issues, key=lambda t: t[:2])]
    total = duplicates_total + seen.issues_total
    streams = [(duplicates, "duplicate id", duplicates_total),
               (seen.issues, "invalid code", seen.issues_total)]
    kinds = {kind: n for _, kind, n in sorted((kept[0][:2], kind, n)
                                              for kept, kind, n in streams if n)}
    result = LandingResult(
        "landed_with_warnings" if total else "landed", instrument, wave, 1, source,
        store.raw_path(root, instrument, wave), store.codebook_path(root, instrument, wave),
        describe(table), seen.rows_in, seen.rows_in - flagged, flagged,
        warnings=(label_warnings + warnings)[:WARNINGS_KEPT],
        warnings_total=len(label_warnings) + total, notes=table.notes,
        message=_summary(kinds, warnings[0] if warnings else None))
    if seen.blank_total:  # recorded in the manifest's message too
        result.skipped.append(blank_rows_warning(source.name, seen.blank, seen.blank_total))
        result.message = f"{result.skipped[-1]}; {result.message}"
    out.source_sha256 = table.source_sha256 or store.sha256_file(source)
    return result, out


def _in_parallel(source: Path, table: Table) -> bool:
    """Whether worker processes check and normalise the file's rows (parallel.py): a large
    CSV file, whose every column is named, on a machine with processors to spare."""
    return (table.fmt == "csv" and source.stat().st_size >= PARALLEL_MIN_BYTES
            and all(table.header) and parallel.workers() > 1)


def _land_in_sequence(table: Table, normaliser: Normaliser | None, batch_rows: int,
                      out: Canonical, header: list[str], checks: _Checks) -> _Pass:
    """Check, normalise and write the rows in this process, batch after batch."""
    seen = _Pass()
    with open(out.path, "wb") as handle:
        writer = _Writer(handle, header)
        for numbers, rows in _batches(table, batch_rows, seen):
            seen.rows_in += len(rows)
            _first_filled(table.header, numbers, rows, seen)
            if not normaliser or seen.refused is not None:
                continue
            refused, columns, issues = normaliser.batch(numbers, rows)
            if refused is not None:
                seen.refused = numbers[refused], rows[refused]
                continue
            writer.write(columns)
            checks.add(columns[0], numbers, sorted({i[0] for i in issues}))
            seen.issues += issues[:WARNINGS_KEPT - len(seen.issues)]
            seen.issues_total += len(issues)
    out.sha256, out.size = writer.digest.hexdigest(), writer.size
    return seen


def _land_in_parallel(source: Path, table: Table, normaliser: Normaliser, batch_rows: int,
                      out: Canonical, header: list[str], checks: _Checks) -> _Pass:
    """Check and normalise the rows in worker processes; number, write and check for
    duplicates here, chunk after chunk in file order. Raises parallel.GiveUpError (the file is
    then landed by _land_in_sequence, from the start)."""
    seen = _Pass()
    offset = 0  # data records in the chunks before
    with open(out.path, "wb") as handle:
        writer = _Writer(handle, header)
        for chunk in parallel.landed_chunks(source, table.encoding, table.delimiter,
                                            normaliser, batch_rows):
            seen.blank_total += chunk.blank_total
            seen.blank += [offset + n for n in chunk.blank[:ROWS_NAMED - len(seen.blank)]]
            numbers = [offset + n for n in chunk.numbers]
            issues = [(offset + r, order, replace(issue, row=offset + r))
                      for r, order, issue in chunk.issues]
            offset += chunk.records
            seen.rows_in += len(numbers)
            if numbers:
                writer.put_text(chunk.lines.format(*numbers) + "\n")
            checks.add(chunk.ids, numbers, sorted({i[0] for i in issues}))
            seen.issues += issues[:WARNINGS_KEPT - len(seen.issues)]
            seen.issues_total += len(issues)
    out.sha256, out.size = writer.digest.hexdigest(), writer.size
    return seen


class _Writer:
    """The canonical CSV (store.csv_bytes' format), written batch by batch and hashed."""

    def __init__(self, handle, header: list[str]):
        self.handle, self.digest, self.size = handle, hashlib.sha256(), 0
        self._put(store.csv_bytes(header, []))

    def _put(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)

    def write(self, columns) -> None:
        """Write the rows of `columns`: joined with commas when no cell holds a character the
        CSV format quotes (`,` `"` `\\r` `\\n`: then csv.writer would write the same bytes),
        else by csv.writer."""
        rows = len(columns[0])
        text = "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"
        if ('"' in text or "\r" in text or text.count(",") != rows * (len(columns) - 1)
                or text.count("\n") != rows):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(zip(*columns, strict=True))
            text = buffer.getvalue()
        self._put(text.encode("utf-8"))

    def put_text(self, text: str) -> None:
        self._put(text.encode("utf-8"))


def _refuse_other_files(root: Path, result: LandingResult) -> None:
    """Refuse when raw/ holds another file of the same instrument and wave: dbt reads them all."""
    instrument, wave = result.instrument, result.wave
    others = [p for p in sorted((root / "raw").glob(f"{instrument}_{wave}*.csv"))
              if p != result.landed and (m := spec.RAW_NAME.match(p.name))
              and (m["instrument"], m["wave"]) == (instrument, str(wave))]
    if others:
        raise refuse(result.source.name, None, None, f"{others[0]} already holds {instrument} "
                     f"{wave} and dbt reads every file in raw/: move it out of raw/ "
                     "before landing", result.rows_in)


def _same_content(result: LandingResult, data: Canonical, current: dict | None,
                  previous: int) -> bool:
    """True (and the result says `unchanged`) when the landed file already holds `data`."""
    if not result.landed.exists() or store.sha256_file(result.landed) != data.sha256:
        return False
    result.status, result.version = "unchanged", max(previous, 1)
    same = "the same file" if current and current["source_sha256"] == data.source_sha256 \
        else "the same content"
    when = f" landed at {current['landed_at']}" if current else ""
    result.message = f"{same} as version {result.version}{when}: nothing to do"
    return True


def _archive(result: LandingResult, state: Path, previous: int,
             book_changed: bool) -> list[tuple[Path, bytes | Path]]:
    """Writes that archive the version replaced (and its codebook when it changes)."""
    writes: list[tuple[Path, bytes | Path]] = []
    if result.landed.exists():
        result.archived.append(store.archive_path(state, result.instrument, result.wave,
                                                  previous))
        writes.append((result.archived[-1], result.landed))
    if book_changed and result.codebook.exists():
        result.archived.append(store.archive_path(state, result.instrument, result.wave,
                                                  previous, True))
        writes.append((result.archived[-1], result.codebook))
    for path in result.archived:
        if path.exists():
            raise refuse(result.source.name, None, None, f"{path} already exists: the archive "
                         "is never overwritten; check the manifest", result.rows_in)
    return writes


def _manifest_row(result: LandingResult, state: Path, data: Canonical, book_bytes: bytes,
                  now: datetime | None) -> dict[str, object]:
    return {
        "landed_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "instrument": result.instrument, "wave": result.wave, "version": result.version,
        "status": result.status, "file_name": result.landed.name,
        "sha256": data.sha256, "size_bytes": data.size, "rows": result.rows_in,
        **result.counts,
        "source_file": result.source.name, "source_format": result.source_description,
        "source_sha256": data.source_sha256,
        "source_size_bytes": result.source.stat().st_size,
        "codebook_sha256": store.sha256_bytes(book_bytes),
        "archived_previous": " ".join(str(p.relative_to(state)) for p in result.archived),
        "message": result.message,
    }
