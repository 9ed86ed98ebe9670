"""Landing: a received respondent file becomes the canonical raw file dbt reads.

    python -m observatoire.landing <file> --instrument pro --wave 2025 \\
        [--codebook path] [--landing-root seeds] [--state-root data/landing]

Steps (`land()`): read the file (CSV exported by French tools or Excel: `;`, `,` or tab,
UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252/Latin-1, decimal commas; XLSX, first
sheet; SPSS `.sav`, value labels checked against the codebook), check it against the wave's
codebook, normalise it (UTF-8, `,`, canonical column order `respondent_id, source_row,
started_at, ended_at, <codebook columns>`, `source_row` = row in the received file, 1 = first
data row, date-times `YYYY-MM-DD HH:MM:SS`, `7,0` -> `7`, `7,5` -> `7.5`) and write it
atomically to `<landing_root>/raw/<instrument>_<wave>.csv`, with the codebook at
`<landing_root>/codebooks/<instrument>_<wave>.csv` and a row in
`<state_root>/landing_manifest.csv`. The state root (manifest, archive) is runtime state, kept
out of the configuration: `data/landing/` for the landing root `seeds/`
(observatoire.conventions.landing_state_root).

Versions: landing content identical to the current version (same canonical file and codebook)
is a no-op and says so. Anything else becomes version N+1: the previous canonical file moves
to `<state_root>/archive/<instrument>_<wave>__v<N>.csv` (a replaced codebook to
`archive/codebooks/`), outside `seeds/` so dbt never reads it; the manifest keeps every row.

Rules — REFUSED (LandingError, exit code 1; nothing under the landing root changes):
  * the file: missing, empty (0 bytes or blanks), header only (no data rows, or blank rows
    only), unsupported
    extension or content not matching it, unreadable workbook or .sav;
  * encoding: undecodable bytes (neither UTF-8 nor Windows-1252), mixed encodings, NUL bytes;
  * reading: an unbalanced quote, a cell or a line over the reader's limits (limits.py);
  * delimiter: the header reads as a single column (wrong delimiter);
  * columns: missing codebook column, unknown column, duplicate column name, values in a
    column without a header (`source_row` and a `wave`/`wave_year`/`annee`/`année`/`year`
    column are optional; `source_row` is recomputed);
  * rows: truncated (fewer cells than the header) or too long (more cells), empty
    respondent id, unparseable `started_at`/`ended_at`;
  * the wave: a year in the file name other than --wave, a wave column value other than
    --wave, a `started_at` outside the wave year, a codebook of another instrument or wave;
  * SPSS: a value label that contradicts the codebook's label for the same code (shifted
    codes);
  * the landing root: another file of the same instrument and wave in `raw/` (e.g.
    `pro_2025__synthetic.csv`: dbt would read both), an archive file already present.
Rules — PASSED THROUGH for the warehouse's row-level quarantine (landed unchanged, reported
as warnings with file/row/column; dbt quarantines them with source_file/source_row):
  * a code outside the codebook (single/scale), a multi-select cell other than 1/0, a
    numeric cell that is not a number;
  * a duplicate respondent id (the first occurrence is kept by dbt);
  * (SPSS) a value label for a code the codebook lacks.
  Routing, required questions, speeders and duplicate answers are left to dbt alone.
Rules — SKIPPED with a warning naming them: blank rows (no cell holds a value), wherever they
are; the other rows keep their row number in the received file (`source_row`).

Counts, always: rows_in = rows_loaded + rows_quarantined + rows_refused. A refused file has
all its rows refused; a landed one has rows_refused = 0 and rows_quarantined = the rows with at
least one warning (dbt may quarantine more rows for routing and the like).
Every message reads `<file> row <n>, column <c>: <reason>` (`header` or `value labels` in
place of a row for header problems), a value it quotes cut to limits.QUOTED_MAX_CHARS; see
docs/landing.md for what to do about each, and for how memory is bounded (the file is read
as a stream, in batches of rows).
"""

from observatoire.landing.issues import Issue, LandingError
from observatoire.landing.pipeline import LandingResult, land

__all__ = ["Issue", "LandingError", "LandingResult", "land"]
