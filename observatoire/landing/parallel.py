"""The data rows of a large CSV file checked and normalised by worker processes, in order.

The main process reads the decoded text in chunks of PARALLEL_CHUNK_CHARS characters, each
cut after a line end that has an even number of quote characters before it (so, in any file
whose quotes only open and close quoted cells, at the end of a record); a worker parses a
chunk with Python's `csv` (as readers._csv_records would), checks and normalises its rows in
batches (validate.Normaliser.batch) and renders them as canonical CSV lines, less the row
number it cannot know; the main process numbers the rows, writes them and finds the
duplicate ids (pipeline). A chunk parsed without error to its end ends at the end of a
record: its records are those the sequential reading gives.

The workers only ever handle files that land: whatever would make the sequential reading
refuse the file or say something about a row (a record csv cannot read or that ends
outside its chunk, a line with no cut within PARALLEL_MAX_CHUNK_CHARS, a row a check
refuses) makes the workers give up (GiveUpError), and the pipeline lands the file again
sequentially, which words the refusal. The results are the same either way
(tests/test_landing_large.py).
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from pathlib import Path

from observatoire.landing.issues import Issue
from observatoire.landing.limits import (
    CELL_MAX_CHARS,
    PARALLEL_CHUNK_CHARS,
    PARALLEL_MAX_CHUNK_CHARS,
    PARALLEL_WORKERS,
    ROWS_NAMED,
)
from observatoire.landing.validate import Column, Normaliser


class GiveUpError(Exception):
    """The workers cannot land this file as the sequential reading would: land it that way."""


@dataclass
class Chunk:
    """What a worker made of one chunk: `records` data records (blank ones included), the
    non-blank ones numbered from 1 in the chunk."""

    records: int = 0
    numbers: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # stripped, as DuckDB checks them
    # the canonical lines, `{}` in place of the row number (str.format; braces doubled)
    lines: str = ""
    issues: list[tuple[int, int, Issue]] = field(default_factory=list)  # (row, order, Issue)
    blank: list[int] = field(default_factory=list)  # the first ROWS_NAMED blank rows
    blank_total: int = 0


def workers() -> int:
    """Worker processes for a large file: PARALLEL_WORKERS, at most the processors usable."""
    return min(PARALLEL_WORKERS, len(os.sched_getaffinity(0)))


def landed_chunks(path: Path, encoding: str, delimiter: str, normaliser: Normaliser,
                  batch_rows: int) -> Iterator[Chunk]:
    """The chunks of the file's data records, in file order, as the workers landed them;
    at most twice as many chunks as workers are in flight. Raises GiveUpError."""
    context = multiprocessing.get_context("forkserver")  # no fork of a threaded process
    pending: deque[Future[Chunk | None]] = deque()
    count = workers()
    with ProcessPoolExecutor(count, mp_context=context, initializer=_start,
                             initargs=(normaliser, delimiter, batch_rows)) as pool:
        try:
            for index, text in enumerate(_texts(path, encoding)):
                pending.append(pool.submit(_land, text, index == 0))
                if len(pending) >= 2 * count:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            for future in pending:
                future.cancel()


def _result(future: Future[Chunk | None]) -> Chunk:
    try:
        chunk = future.result()
    except BrokenProcessPool:  # a worker could not start or died: land in one process
        raise GiveUpError from None
    if chunk is None:
        raise GiveUpError
    return chunk


def _texts(path: Path, encoding: str) -> Iterator[str]:
    """The decoded file (leading BOM dropped, as readers._lines does) in chunks each cut
    after a line end with an even number of quote characters before it."""
    with open(path, encoding=encoding, newline="") as handle:
        carry = handle.read(PARALLEL_CHUNK_CHARS).lstrip("\ufeff")
        while True:
            more = handle.read(PARALLEL_CHUNK_CHARS)
            if not more:
                if carry:
                    yield carry
                return
            text = carry + more
            cut = _cut(text)
            if cut < 0:
                if len(text) > PARALLEL_MAX_CHUNK_CHARS:
                    raise GiveUpError
                carry = text
                continue
            yield text[:cut]
            carry = text[cut:]


def _cut(text: str, tries: int = 64) -> int:
    """The index after the last `\\n` with an even number of `"` before it (among the last
    `tries` line ends), -1 if none."""
    end = text.rfind("\n")
    quotes = text.count('"', 0, end + 1)
    while end >= 0 and quotes % 2 and tries:
        before = text.rfind("\n", 0, end)
        quotes -= text.count('"', before + 1, end + 1)
        end, tries = before, tries - 1
    return end + 1 if end >= 0 and not quotes % 2 else -1


_worker: tuple[Normaliser, str, int] | None = None  # set in each worker by _start


def _start(normaliser: Normaliser, delimiter: str, batch_rows: int) -> None:
    global _worker
    _worker = normaliser, delimiter, batch_rows
    csv.field_size_limit(CELL_MAX_CHARS)


def _land(text: str, first: bool) -> Chunk | None:
    """A chunk landed by a worker, or None when it must be landed sequentially."""
    assert _worker is not None
    normaliser, delimiter, batch_rows = _worker
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    chunk = Chunk()
    lines: list[str] = []
    try:
        if first:
            next(records)  # the header, read by the main process
        while block := list(islice(records, batch_rows)):
            if not _batch(chunk, block, normaliser, lines):
                return None
    except csv.Error:  # unreadable, or a quoted cell going on past the chunk
        return None
    chunk.lines = "\n".join(lines)
    return chunk


def without_blank(numbers: list[int], block: list[list[str]]
                  ) -> tuple[list[int], list[list[str]], list[int]]:
    """(numbers, records) of the non-blank records of a block, and the numbers of the blank
    ones (no cell holds a value). A block whose every record has a non-blank first cell (the
    usual case) is given back whole."""
    if all(block) and all(map(str.strip, map(itemgetter(0), block))):
        return numbers, block, []
    kept: tuple[list[int], list[list[str]]] = ([], [])
    blank = []
    for number, record in zip(numbers, block, strict=True):
        if (record and record[0].strip()) or any(map(str.strip, record)):
            kept[0].append(number)
            kept[1].append(record)
        else:
            blank.append(number)
    return *kept, blank


def _batch(chunk: Chunk, block: list[list[str]], normaliser: Normaliser,
           lines: list[str]) -> bool:
    """Land one block of records into `chunk` and its `lines` (False when a row is
    refused)."""
    start = chunk.records + 1
    chunk.records += len(block)
    numbers, rows, blank = without_blank(list(range(start, start + len(block))), block)
    chunk.blank_total += len(blank)
    chunk.blank += blank[:ROWS_NAMED - len(chunk.blank)]
    if not rows:
        return True
    refused, columns, issues = normaliser.batch(numbers, rows)
    if refused is not None:
        return False
    chunk.numbers += numbers
    chunk.ids += columns[0]
    heads = _rendered([columns[0]])  # never "" (which csv.writer writes `""`): refused
    tails = _rendered(columns[2:])
    if any("{" in text or "}" in text for text in ("".join(heads), "".join(tails))):
        heads, tails = ([t.replace("{", "{{").replace("}", "}}") for t in texts]
                        for texts in (heads, tails))
    lines.append("\n".join(map("{},{{}},{}".format, heads, tails)))
    chunk.issues += issues
    return True


class _Last:
    """A file that keeps the last text written (csv.writer writes a row at a time)."""

    text = ""

    def write(self, text: str) -> None:
        self.text = text


def _rendered(columns: list[Column]) -> list[str]:
    """The rows of `columns` as csv.writer writes them (minimal quoting), without the line end:
    joined with commas when no cell holds a character the format quotes."""
    lines = list(map(",".join, zip(*columns, strict=True)))
    text = "\n".join(lines)
    if ('"' in text or "\r" in text or text.count(",") != len(lines) * (len(columns) - 1)
            or text.count("\n") != len(lines) - 1):
        last = _Last()
        # the canonical line end: csv.writer quotes a cell holding a character of it
        writer = csv.writer(last, lineterminator="\n")
        lines = []
        for row in zip(*columns, strict=True):
            writer.writerow(row)
            lines.append(last.text[:-1])
    return lines
