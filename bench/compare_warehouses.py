"""Compare two DuckDB files table by table, row for row: the proof that a change of the models
(or of the refresh) gives the same rows as before.

For every table and view of either file (schemas `--schemas`, default all but DuckDB's own;
views are read through a connection to their own file, where their catalog name resolves, and
compared as the rows they return):
same columns (names and types, in any order), then the rows as multisets, EXCEPT ALL both
ways on the columns in name order. Doubles are compared to `--tolerance` (1e-9): rows that
differ exactly are paired again with every double rounded to 9 decimals, and what still
differs is matched by the other columns with |difference| <= tolerance. Columns that change
from run to run by design (run ids, run times) are left out with `--ignore schema.table.column`
(`*` matches any table: `--ignore '*.*.run_id'`).

    python bench/compare_warehouses.py old/warehouse.duckdb new/warehouse.duckdb
    python bench/compare_warehouses.py a.duckdb b.duckdb --ignore 'quality.*.run_id' --json out.json

Exit 0 when every relation is equal, 1 otherwise (each difference is printed).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

TOLERANCE = 1e-9
FLOATS = {"DOUBLE", "FLOAT", "REAL"}


@dataclass
class Outcome:
    """What the comparison of one relation found."""

    relation: str
    rows: tuple[int | None, int | None]
    equal: bool
    how: str = ""
    problems: list[str] = field(default_factory=list)


def _relations(con: duckdb.DuckDBPyConnection, alias: str,
               schemas: list[str] | None) -> dict[str, dict[str, str]]:
    """{schema.table: {column: type}} of one attached file."""
    rows = con.execute("""
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        where table_catalog = ? and table_schema not in ('information_schema', 'pg_catalog')
        order by all""", [alias]).fetchall()
    found: dict[str, dict[str, str]] = {}
    for schema, table, column, data_type in rows:
        if schemas is None or schema in schemas:
            found.setdefault(f"{schema}.{table}", {})[column] = data_type
    return found


def _export_views(path: Path, folder: Path) -> dict[str, str]:
    """Rows of every view of the file at path, as Parquet files in folder: {schema.view: path}.
    A view names the catalog it was created in (dbt: the warehouse file's stem when it was
    built), so the file is attached under that name, whatever it is called now."""
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path), read_only=True) as con:
        views = con.execute("select schema_name, view_name, sql from duckdb_views() "
                            "where not internal and database_name = current_database()"
                            ).fetchall()
    three_part = re.compile(r'(?:from|join)\s+"?(\w+)"?\."?\w+"?\."?\w+', re.IGNORECASE)
    catalogs = {m.group(1) for *_, sql in views for m in three_part.finditer(sql)}
    if len(catalogs) > 1:
        raise ValueError(f"{path}: views over several catalogs {sorted(catalogs)}")
    catalog = catalogs.pop() if catalogs else "db"
    exported = {}
    con = duckdb.connect()
    con.execute(f"attach '{path}' as \"{catalog}\" (read_only)")
    con.execute(f'use "{catalog}"')
    for schema, view, _ in views:
        out = folder / f"{schema}.{view}.parquet"
        con.execute(f'copy (select * from "{schema}"."{view}") to \'{out}\' (format parquet)')
        exported[f"{schema}.{view}"] = f"read_parquet('{out}')"
    con.close()
    return exported


def _ignored(relation: str, column: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(f"{relation}.{column}", p) for p in patterns)


def _count_differences(con, left: str, right: str, select: str) -> tuple[int, int]:
    only_left = con.execute(f"select count(*) from (select {select} from {left} "
                            f"except all select {select} from {right})").fetchone()[0]
    only_right = con.execute(f"select count(*) from (select {select} from {right} "
                             f"except all select {select} from {left})").fetchone()[0]
    return only_left, only_right


def compare_relation(con, relation: str, columns: dict[str, str], tolerance: float,
                     sources: tuple[str, str]) -> Outcome:
    """Rows of `relation` in both files (same columns; `sources`: what to read each from) as
    multisets, doubles to tolerance."""
    left, right = sources
    names = sorted(columns)
    quoted = [f'"{c}"' for c in names]
    rows = tuple(con.execute(f"select count(*) from {side}").fetchone()[0]
                 for side in (left, right))
    outcome = Outcome(relation, rows, equal=False)
    if rows[0] != rows[1]:
        outcome.problems.append(f"row counts {rows[0]} and {rows[1]}")
        return outcome
    if _count_differences(con, left, right, ", ".join(quoted)) == (0, 0):
        outcome.equal, outcome.how = True, "exact"
        return outcome
    floats = [c for c in names if columns[c].upper() in FLOATS]
    if not floats:
        outcome.problems.append("rows differ (no double column)")
        return outcome
    rounded = ", ".join(f"round({q}, 9)" if c in floats else q
                        for c, q in zip(names, quoted, strict=True))
    if _count_differences(con, left, right, rounded) == (0, 0):
        outcome.equal, outcome.how = True, "doubles rounded to 9 decimals"
        return outcome
    # rounding boundary: pair the rows by every other column, doubles within tolerance
    others = [f'"{c}"' for c in names if c not in floats]
    key = ", ".join(others) if others else "1"
    numbered = ("select *, row_number() over (partition by {key} order by {order}) as _n "
                "from {side}")
    order = ", ".join(f'"{c}"' for c in floats)
    pairs = " and ".join(f"l.{c} is not distinct from r.{c}" for c in [*others, "_n"])
    far = " or ".join(f'(l."{c}" is null) <> (r."{c}" is null) or abs(l."{c}" - r."{c}") > '
                      f"{tolerance}" for c in floats)
    unmatched = con.execute(f"""
        select count(*) from ({numbered.format(key=key, order=order, side=left)}) as l
        full join ({numbered.format(key=key, order=order, side=right)}) as r on {pairs}
        where l._n is null or r._n is null or {far}""").fetchone()[0]
    if unmatched == 0:
        outcome.equal, outcome.how = True, f"doubles within {tolerance:g}"
    else:
        outcome.problems.append(f"{unmatched} rows differ beyond {tolerance:g}")
    return outcome


def compare(first: Path, second: Path, *, ignore: list[str] = (), schemas: list[str] | None = None,
            tolerance: float = TOLERANCE) -> list[Outcome]:
    """Every relation of either file compared (see the module's docstring)."""
    scratch = tempfile.TemporaryDirectory(prefix="compare_warehouses_")
    views = (_export_views(first, Path(scratch.name) / "a"),
             _export_views(second, Path(scratch.name) / "b"))
    con = duckdb.connect()
    con.execute(f"attach '{first}' as a (read_only)")
    con.execute(f"attach '{second}' as b (read_only)")
    in_a, in_b = _relations(con, "a", schemas), _relations(con, "b", schemas)
    outcomes = []
    for relation in sorted(in_a.keys() | in_b.keys()):
        if relation not in in_a or relation not in in_b:
            where = "first" if relation in in_a else "second"
            outcomes.append(Outcome(relation, (None, None), False, problems=[f"only in {where}"]))
            continue
        kept_a = {c: t for c, t in in_a[relation].items() if not _ignored(relation, c, ignore)}
        kept_b = {c: t for c, t in in_b[relation].items() if not _ignored(relation, c, ignore)}
        if kept_a != kept_b:
            outcomes.append(Outcome(relation, (None, None), False, problems=[
                f"columns differ: {sorted(set(kept_a.items()) ^ set(kept_b.items()))}"]))
            continue
        sources = tuple(side.get(relation, f"{alias}.{relation}")
                        for side, alias in zip(views, "ab", strict=True))
        outcomes.append(compare_relation(con, relation, kept_a, tolerance, sources))
    con.close()
    scratch.cleanup()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--ignore", action="append", default=[],
                        help="schema.table.column to leave out (fnmatch pattern; repeatable)")
    parser.add_argument("--schemas", help="comma-separated schemas (default: all)")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument("--json", type=Path, help="write the outcomes here too")
    args = parser.parse_args(argv)
    outcomes = compare(args.first, args.second, ignore=args.ignore, tolerance=args.tolerance,
                       schemas=args.schemas.split(",") if args.schemas else None)
    for o in outcomes:
        state = "equal" if o.equal else "DIFFERENT"
        print(f"{state:9} {o.relation:50} rows {o.rows[0]} / {o.rows[1]}  {o.how}"
              + "".join(f"\n          {p}" for p in o.problems))
    different = [o.relation for o in outcomes if not o.equal]
    print(f"\n{len(outcomes) - len(different)} of {len(outcomes)} relations equal"
          + (f"; different: {', '.join(different)}" if different else ""))
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
