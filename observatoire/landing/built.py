"""Which landed version of a wave the warehouse was built from, for the landing's message.

Past waves are immutable in the warehouse: landing version N + 1 does not change what the
warehouse holds until the wave is rebuilt on purpose. The warehouse keeps no version number,
so the answer is found by content: the wave's cells in `staging.stg_landed__responses` (and
its respondent count) are compared with each landed version's canonical file (the current
one in raw/, earlier ones in archive/, listed by the manifest).
"""

from __future__ import annotations

from pathlib import Path

from observatoire.landing import store

NOT_BUILT = None  # the warehouse does not exist or does not hold the wave
UNKNOWN = 0  # the warehouse holds the wave, from a file matching no landed version

_DIFFERENCE = """
with built as (
    select source_row, column_name, raw_value
    from staging.stg_landed__responses
    where survey = $survey and wave_year = $wave
),
landed as (
    select cast(source_row as integer) as source_row, column_name, trim(raw_value) as raw_value
    from (
        unpivot (
            select * exclude (respondent_id, started_at, ended_at)
            from read_csv($path, all_varchar = true, header = true)
        )
        on columns(* exclude (source_row))
        into name column_name value raw_value
    ) as cells
    where trim(raw_value) <> ''
)
select
    (select count(*) from (select * from built except all select * from landed) as extra)
    + (select count(*) from (select * from landed except all select * from built) as missing)
"""


def _versions(root: Path, state: Path, instrument: str,
              wave: int) -> list[tuple[int, Path, int]]:
    """(version, canonical file, rows) of every landed version still on disk, newest first:
    the current one in the landing root's raw/, earlier ones in the state root's archive/."""
    rows = [r for r in store.read_manifest(state)
            if r["instrument"] == instrument and int(r["wave"]) == wave]
    newest = max((int(r["version"]) for r in rows), default=0)
    out = []
    for row in sorted(rows, key=lambda r: -int(r["version"])):
        version = int(row["version"])
        path = store.raw_path(root, instrument, wave) if version == newest else \
            store.archive_path(state, instrument, wave, version)
        if path.is_file():
            out.append((version, path, int(row["rows"])))
    return out


def _count(con, query: str, params: object = None) -> int:
    """The single count a `select count(*) ...` query returns."""
    row = con.execute(query, params).fetchone()
    return int(row[0]) if row else 0


def built_version(warehouse: Path, root: Path, state: Path, instrument: str,
                  wave: int) -> int | None:
    """The landed version of `instrument` `wave` the warehouse holds: NOT_BUILT (None) when
    the warehouse or the wave is absent, UNKNOWN (0) when no landed version matches.
    Raises duckdb.Error when the warehouse cannot be read (e.g. a build holds it)."""
    import duckdb

    warehouse = Path(warehouse)
    if not warehouse.is_file():
        return NOT_BUILT
    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = _count(con,
            "select count(*) from information_schema.tables where table_schema = 'staging' "
            "and table_name in ('stg_landed__responses', 'stg_landed__respondents')")
        if present < 2:
            return NOT_BUILT
        held = _count(con,
            "select count(*) from staging.stg_landed__respondents "
            "where survey = ? and wave_year = ?", [instrument, wave])
        if not held:
            return NOT_BUILT
        for version, path, rows in _versions(Path(root), Path(state), instrument, wave):
            if rows != held:
                continue
            differing = _count(con, _DIFFERENCE, {"survey": instrument, "wave": wave,
                                                  "path": str(path)})
            if differing == 0:
                return version
    return UNKNOWN
