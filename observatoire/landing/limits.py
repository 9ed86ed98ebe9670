"""The landing's limits, stated once: what bounds its memory, and how much of a value a message
quotes. A received file is read as a stream; what it holds in memory at a time is set here,
never by the file's size (docs/landing.md, "Memory and limits")."""

from __future__ import annotations

# Rows checked, normalised and written at a time (one batch of text cells in memory).
BATCH_ROWS = 5_000
# Bytes read at a time when a received file is scanned as bytes (encoding, hash, locating).
CHUNK_BYTES = 1 << 20
# The CSV reader's limit per cell (Python's csv default): a longer cell is refused, named by
# its row and column.
CELL_MAX_CHARS = 131_072
# The CSV reader's limit per physical line: a longer line is refused, named by its row and the
# column it was in when the limit was reached.
LINE_MAX_CHARS = 16 << 20
# Memory DuckDB may use for the checks across the whole file (duplicate respondent ids); past
# it DuckDB spills to a temporary folder beside the landed file.
DUCKDB_MEMORY_LIMIT = "256MB"
# Warnings kept in full (file, row, column, reason); past it only counted.
WARNINGS_KEPT = 10_000
# A value quoted in a message or in the manifest is cut to this many characters.
QUOTED_MAX_CHARS = 60
# Rows a message names (blank rows, rows of a kind), the others counted.
ROWS_NAMED = 20
# A CSV file of at least this many bytes is checked and normalised by PARALLEL_WORKERS worker
# processes (at most the processors usable), in chunks of about PARALLEL_CHUNK_CHARS
# characters; a chunk that cannot be cut at the end of a record within
# PARALLEL_MAX_CHUNK_CHARS makes the file land in one process (observatoire/landing/parallel.py).
PARALLEL_MIN_BYTES = 16_000_000
PARALLEL_WORKERS = 2
PARALLEL_CHUNK_CHARS = 2 << 20
PARALLEL_MAX_CHUNK_CHARS = 8 << 20
