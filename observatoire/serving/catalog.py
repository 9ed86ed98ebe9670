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

from observatoire.publish import snapshot as publisher
from observatoire.warehouse.dbt_runner import run_dbt

CATALOG_NAME = "catalog"
FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json",
         "catalog.json": "catalog.json"}


def build_catalog(warehouse: Path, out_dir: Path, *, dbt_vars: dict | None = None) -> Path:
    """`dbt docs generate --static` against `warehouse` into the new folder `out_dir`;
    returns its index.html."""
    with tempfile.TemporaryDirectory(prefix="dbt-docs-") as target:
        run_dbt(["docs", "generate", "--static", "--quiet", "--target-path", target],
                warehouse=warehouse, dbt_vars=dbt_vars, capture=True)
        out_dir.mkdir(parents=True)
        for source, name in FILES.items():
            shutil.copyfile(Path(target) / source, out_dir / name)
    return out_dir / "index.html"


def install_catalog(warehouse: Path, report_dir: Path, *, dbt_vars: dict | None = None) -> Path:
    """Build the catalog beside the report's pages and swap it in as `<report_dir>/catalog`
    (a link replaced atomically: a reader sees the previous catalog or the new one)."""
    home = Path(report_dir).resolve()
    build_dir = home / f".{CATALOG_NAME}-{uuid.uuid4().hex[:8]}"
    try:
        build_catalog(warehouse, build_dir, dbt_vars=dbt_vars)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    publisher.swap_dir(build_dir, home / CATALOG_NAME, keep_previous=False)
    return Path(report_dir) / CATALOG_NAME / "index.html"
