"""The data catalog for analysts: dbt's docs site (models, columns, descriptions, lineage).

`dbt docs generate --static` writes `static_index.html`, one page with the manifest and the
catalog inside: it opens from a file (the plain `index.html` fetches `manifest.json`, which
browsers refuse on file://) and loads nothing from the network (its usage tracking is off with
DBT_SEND_ANONYMOUS_USAGE_STATS=false, which every dbt run here sets). It is installed as
`<report>/catalog/index.html`, with `manifest.json` and `catalog.json` beside it for tools.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import duckdb

from observatoire.conventions import PROJECT_ROOT
from observatoire.publish import snapshot as publisher
from observatoire.warehouse import reuse
from observatoire.warehouse.dbt_runner import DBT_SOURCE_SUFFIXES, DBT_SOURCES, run_dbt

CATALOG_NAME = "catalog"
FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json",
         "catalog.json": "catalog.json"}
FINGERPRINT = "fingerprint.txt"  # what the installed catalog was built from


def catalog_fingerprint(warehouse: Path, dbt_vars: dict | None) -> str:
    """What the catalog shows: the dbt project (descriptions, lineage) and the warehouse's
    tables and columns (dbt-duckdb's catalog holds no row statistics)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type, ordinal_position "
            "from information_schema.columns order by all").fetchall()
    files = reuse.files_under(PROJECT_ROOT, DBT_SOURCES, DBT_SOURCE_SUFFIXES)
    return reuse.digest([reuse.files_digest(files, PROJECT_ROOT),
                         reuse.value_digest({"columns": columns, "vars": dbt_vars})])


def build_catalog(warehouse: Path, out_dir: Path, *, dbt_vars: dict | None = None,
                  partial_parse: Path | None = None) -> Path:
    """`dbt docs generate --static` against `warehouse` into the new folder `out_dir`;
    returns its index.html. `partial_parse`: a dbt partial-parse file of the same project to
    start from (dbt re-parses what changed since)."""
    with tempfile.TemporaryDirectory(prefix="dbt-docs-") as target:
        if partial_parse is not None and partial_parse.is_file():
            shutil.copyfile(partial_parse, Path(target) / partial_parse.name)
        run_dbt(["docs", "generate", "--static", "--quiet", "--target-path", target],
                warehouse=warehouse, dbt_vars=dbt_vars, capture=True)
        out_dir.mkdir(parents=True)
        for source, name in FILES.items():
            shutil.copyfile(Path(target) / source, out_dir / name)
    return out_dir / "index.html"


def install_catalog(warehouse: Path, report_dir: Path, *, dbt_vars: dict | None = None,
                    partial_parse: Path | None = None) -> Path:
    """Build the catalog beside the report's pages and swap it in as `<report_dir>/catalog`
    (a link replaced atomically: a reader sees the previous catalog or the new one). The
    installed catalog stays when the project and the warehouse's columns are unchanged."""
    home = Path(report_dir).resolve()
    fingerprint = catalog_fingerprint(warehouse, dbt_vars)
    installed = home / CATALOG_NAME
    if (installed / FINGERPRINT).is_file() and (installed / "index.html").is_file() \
            and (installed / FINGERPRINT).read_text() == fingerprint:
        return Path(report_dir) / CATALOG_NAME / "index.html"
    build_dir = home / f".{CATALOG_NAME}-{uuid.uuid4().hex[:8]}"
    try:
        build_catalog(warehouse, build_dir, dbt_vars=dbt_vars, partial_parse=partial_parse)
        (build_dir / FINGERPRINT).write_text(fingerprint)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    publisher.swap_dir(build_dir, home / CATALOG_NAME, keep_previous=False)
    return Path(report_dir) / CATALOG_NAME / "index.html"
