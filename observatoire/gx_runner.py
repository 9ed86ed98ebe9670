"""Run Great Expectations 1.x suites on pandas DataFrames and build offline Data Docs.

Why pandas: GX 1.x's SQL datasources go through SQLAlchemy dialects it knows (Postgres,
Snowflake, SQLite, ...); DuckDB is not one of them, so ``add_sql`` on a ``duckdb:///`` URL
fails or misbehaves. The warehouse therefore reads a table into a DataFrame (``con.sql(...).df()``)
and validates it through a pandas datasource -> dataframe asset -> whole-dataframe batch
definition -> persisted validation definition. Each run stores its result in the context's
validation results store (run name = the batch label, e.g. a survey wave), so Data Docs list it.

Layout: the suites are configuration, versioned in ``expectations/gx/expectations/`` (GX's
suite format, no ids; wave-dependent bounds are ``$PARAMETER``s given at validation time) with
the custom expectations in ``expectations/gx/plugins/``. Everything a run produces lives in a
GX *file* context under the run's data folder (``get_context(data_dir)`` ->
``<data_dir>/gx/``): its ``great_expectations.yml``, the suites loaded from configuration at
each run, the data assets, batch and validation definitions per wave, results and default
docs. A refresh therefore never writes into ``expectations/``. Analytics are off
(``GX_ANALYTICS_ENABLED=false`` plus ``analytics_enabled: false`` in the config).

Offline Data Docs: GX templates load Bootstrap, bootstrap-table, bootstrap-datepicker,
bootstrap-dark, jQuery, Popper, Vega/Vega-Lite/Vega-Embed and Font Awesome from CDNs, and the
GX logo from S3. ``build_offline_docs`` builds the site into ``out_dir``, maps every CDN URL it
finds to the same file of the matching npm package installed from ``vendor/package.json``
(``npm ci --prefix vendor``), copies it (and the fonts its CSS references) to
``static/vendor/<package>/``, rewrites the reference to a relative path and drops
``integrity``/``crossorigin`` (CORS checks fail on ``file://``). The logo points to GX's own
``static/images/logo-long.png``. An unknown URL raises, so a GX upgrade cannot silently
reintroduce a network load. ``find_external_urls`` checks the result.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
import great_expectations.exceptions as gx_exc  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.render.renderer.site_builder import SiteBuilder  # noqa: E402

log = logging.getLogger(__name__)

DATASOURCE_NAME = "observatoire_pandas"
VENDOR_DIR = Path(os.environ.get("OBSERVATOIRE_VENDOR_DIR", Path(__file__).parents[1] / "vendor"))
NODE_MODULES = VENDOR_DIR / "node_modules"
# cdnjs / bootstrapcdn library names that differ from the npm package name.
NPM_ALIASES = {"font-awesome": "@fortawesome/fontawesome-free"}
GX_ASSETS_HOST = "great-expectations-web-assets.s3.us-east-2.amazonaws.com"
GX_LOGO = "static/images/logo-long.png"  # shipped by GX inside every site

_URL = r"(?:https?:)?//[^\s\"'<>()]+"
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
_ASSET_EXT = r"\.(?:js|mjs|css|woff2?|ttf|otf|eot|png|jpe?g|gif|svg)"
_JS_ASSET = re.compile(r"""["'](""" + _URL + _ASSET_EXT + r""")["']""")
_EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)


SUITES_DIR = Path(__file__).parents[1] / "expectations" / "gx" / "expectations"
PLUGINS_DIR = Path(__file__).parents[1] / "expectations" / "gx" / "plugins"
PLUGIN_MODULE = "observatoire_expectations"


def load_plugins():
    """Import the project's custom expectations (GX registers them on import)."""
    if str(PLUGINS_DIR) not in sys.path:
        sys.path.insert(0, str(PLUGINS_DIR))
    import importlib

    return importlib.import_module(PLUGIN_MODULE)


def configured_suites(suites_dir: Path = SUITES_DIR) -> list:
    """The suites of ``expectations/gx/expectations/*.json`` as GX suites (not yet stored)."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    load_plugins()
    suites = []
    for path in sorted(Path(suites_dir).glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        expectations = [ExpectationConfiguration(type=e["type"], kwargs=e.get("kwargs", {}),
                                                 meta=e.get("meta") or {}).to_domain_obj()
                        for e in spec["expectations"]]
        suites.append(gx.ExpectationSuite(name=spec["name"], expectations=expectations,
                                          meta=spec.get("meta") or {}))
    return suites


def get_context(data_dir: Path, *, load_suites: bool = True):
    """The GX file context of a run, at ``<data_dir>/gx/`` (created on first use), with the
    configured suites (re)loaded from ``expectations/`` unless ``load_suites`` is false.

    Analytics and progress bars are off; the plugins folder is the project's, so Data Docs use
    its custom styles. Nothing is written outside ``data_dir``.
    """
    root = Path(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    load_plugins()
    context = gx.get_context(mode="file", project_root_dir=root)
    bars = context.variables.progress_bars
    bars_on = bars is None or (bars.get("globally") if isinstance(bars, dict) else bars.globally)
    if (context.variables.analytics_enabled is not False or bars_on is not False
            or context.variables.plugins_directory != str(PLUGINS_DIR)):
        context.variables.analytics_enabled = False
        context.variables.progress_bars = ProgressBarsConfig(globally=False)  # quiet CI logs
        context.variables.plugins_directory = str(PLUGINS_DIR)
        context.variables.save()
    if load_suites:
        for suite in configured_suites():
            context.suites.add_or_update(suite)
    return context


def _get_or_add(getter, adder, name):
    try:
        return getter(name)
    except (KeyError, LookupError, ValueError, gx_exc.DataContextError):
        return adder(name)


def run_suite(context, suite_name: str, df: pd.DataFrame, batch_label: str, *,
              parameters: dict | None = None, expectations: list | None = None) -> list[dict]:
    """Validate ``df`` against suite ``suite_name`` with suite ``parameters``.

    The suite is the one stored in the context (loaded from configuration by ``get_context``),
    or, when ``expectations`` are given, replaced by them. Goes through a pandas datasource, a
    dataframe asset named after the suite, a whole-dataframe batch definition and a persisted
    validation definition ``<suite>__<batch_label>``; the run is stored with run name
    ``batch_label`` so Data Docs show it. Safe to call repeatedly.
    Returns one dict per expectation: suite, expectation_type, column, kwargs_json, meta,
    success, observed_value, unexpected_count, element_count.
    """
    if expectations is not None:
        fresh = [e.copy(deep=True, update={"id": None}) for e in expectations]
        context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=fresh))
    suite = context.suites.get(suite_name)

    ds = _get_or_add(context.data_sources.get, context.data_sources.add_pandas, DATASOURCE_NAME)
    asset = _get_or_add(ds.get_asset, ds.add_dataframe_asset, suite_name)
    batch_def = _get_or_add(asset.get_batch_definition,
                            asset.add_batch_definition_whole_dataframe, batch_label)
    vd = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{suite_name}__{batch_label}", data=batch_def, suite=suite)
    )
    # explicit run_time: otherwise GX parses a run_name like "2024" as the run's date
    run_id = RunIdentifier(run_name=batch_label, run_time=dt.datetime.now(dt.UTC))
    result = vd.run(batch_parameters={"dataframe": df}, result_format="SUMMARY", run_id=run_id,
                    expectation_parameters=parameters or {})

    order = {e.id: i for i, e in enumerate(suite.expectations)}  # report in input order
    rows = []
    for r in sorted(result.results, key=lambda r: order.get(r.expectation_config.id, 0)):
        cfg = r.expectation_config
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX suite {suite_name} ({batch_label}): {cfg.type} raised "
                               f"{r.exception_info.get('exception_message')}")
        kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        res = r.result or {}
        observed = res.get("observed_value")
        unexpected = res.get("unexpected_count")
        rows.append({
            "suite": suite_name,
            "expectation_type": cfg.type,
            "column": kwargs.get("column"),
            "kwargs_json": json.dumps(kwargs, sort_keys=True, default=str),
            "meta": dict(cfg.meta or {}),
            "success": bool(r.success),
            "observed_value": None if observed is None else str(observed),
            "unexpected_count": None if unexpected is None else int(unexpected),
            "element_count": int(res.get("element_count", len(df))),
        })
    return rows


# ---------------------------------------------------------------- offline Data Docs
def _npm_file(url: str) -> Path:
    """Map a CDN URL to the same file in vendor/node_modules (raises if unknown or missing)."""
    u = re.sub(r"^(?:https?:)?//", "", url).split("?")[0].split("#")[0]
    host, _, rest = u.partition("/")
    if host in ("cdn.jsdelivr.net", "unpkg.com"):
        m = re.match(r"(?:npm/)?((?:@[^/]+/)?[^/@]+)@[^/]+/?(.*)", rest)
        pkg, path = m.groups() if m else (None, "")
    elif host == "cdnjs.cloudflare.com" or host.endswith("bootstrapcdn.com"):
        m = re.match(r"(?:ajax/libs/)?([^/]+)/[^/]+/(.+)", rest)
        pkg, path = m.groups() if m else (None, "")
    elif host == "code.jquery.com" and rest.startswith("jquery-"):
        pkg, path = "jquery", "dist/jquery" + (".min.js" if rest.endswith(".min.js") else ".js")
    else:
        pkg, path = None, ""
    if pkg is None:
        raise ValueError(f"no npm mapping for external asset {url}")
    pkg = NPM_ALIASES.get(pkg, pkg)
    pkg_dir = NODE_MODULES / pkg
    if not path:  # bare "pkg@5": the file a CDN serves by default
        meta = json.loads((pkg_dir / "package.json").read_text())
        path = meta.get("jsdelivr") or meta.get("unpkg") or meta.get("main")
    for candidate in (pkg_dir / path, pkg_dir / "dist" / path):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{url}: not in {pkg_dir} (run `npm ci --prefix {VENDOR_DIR}`)")


def _vendor(src: Path, site: Path, copied: dict[Path, Path]) -> Path:
    """Copy an npm file (plus relative url() deps of CSS) to static/vendor/; return target."""
    if src in copied:
        return copied[src]
    dest = site / "static" / "vendor" / src.relative_to(NODE_MODULES)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    copied[src] = dest
    if src.suffix == ".css":
        for m in _CSS_URL.finditer(src.read_text(errors="replace")):
            ref = (m.group(1) or m.group(2)).split("?")[0].split("#")[0]
            if ref and not ref.startswith("data:") and not _EXTERNAL.match(ref):
                dep = (src.parent / ref).resolve()
                if dep.is_file() and NODE_MODULES.resolve() in dep.parents:
                    _vendor(NODE_MODULES / dep.relative_to(NODE_MODULES.resolve()), site, copied)
    return dest


def _local_target(url: str, site: Path, copied: dict[Path, Path]) -> Path:
    if GX_ASSETS_HOST in url:  # GX logos (navbar + dark-mode CSS): use the bundled one
        return site / GX_LOGO
    return _vendor(_npm_file(url), site, copied)


def build_offline_docs(context, out_dir: Path) -> Path:
    """Build Data Docs for all suites and stored results into ``out_dir``, fully offline.

    External asset URLs are vendored into ``out_dir/static/vendor/`` from ``vendor/node_modules``
    and rewritten to relative paths. Returns the path of ``index.html``.
    """
    site = Path(out_dir).resolve()
    site.mkdir(parents=True, exist_ok=True)
    builder = SiteBuilder(
        data_context=context,
        store_backend={"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
        site_name="offline_site",
        site_index_builder={"class_name": "DefaultSiteIndexBuilder"},
        show_how_to_buttons=False,
        runtime_environment={"root_directory": context.root_directory},
    )
    builder.build()
    copied: dict[Path, Path] = {}
    vendor_dir = site / "static" / "vendor"
    for f in sorted(site.rglob("*")):
        if f.suffix not in (".html", ".css") or vendor_dir in f.parents:
            continue
        text = original = f.read_text(encoding="utf-8")
        for url in sorted({u for _, u in _scan_file(f, text)[0]}, key=len, reverse=True):
            rel = os.path.relpath(_local_target(url, site, copied), f.parent)
            for variant in (url.replace("&", "&amp;"), url):  # HTMLParser unescapes attributes
                text = text.replace(variant, Path(rel).as_posix())
        text = re.sub(r"""\s+(?:integrity|crossorigin)=(?:"[^"]*"|'[^']*'|[^\s>]+)""", "", text)
        if text != original:
            f.write_text(text, encoding="utf-8")
    log.info("offline Data Docs: %d vendored files in %s", len(copied), vendor_dir)
    return site / "index.html"


# ---------------------------------------------------------------- external URL scan
class _TagScan(HTMLParser):
    """Collect external URLs of HTML loads (src/href/url()) and of <a> navigation links."""

    ASSET_ATTRS = {"src", "href", "poster", "data", "srcset", "background", "xlink:href"}

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.assets: list[str] = []
        self.links: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if not value:
                continue
            if name == "style":
                self.assets += _css_urls(value)
            elif name in self.ASSET_ATTRS:
                for part in value.split(",") if name == "srcset" else [value]:
                    url = part.strip().split(" ")[0]
                    if _EXTERNAL.match(url):
                        (self.links if tag in ("a", "area") else self.assets).append(url)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.assets += _css_urls(data)


def _css_urls(css: str) -> list[str]:
    refs = (m.group(1) or m.group(2) for m in _CSS_URL.finditer(css))
    return [r for r in refs if _EXTERNAL.match(r)]


def _scan_file(path: Path, text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    if path.suffix == ".html":
        p = _TagScan()
        p.feed(text)
        assets, links = p.assets, p.links
    elif path.suffix == ".css":
        assets, links = _css_urls(text), []
    else:  # .js: only string literals that look like loadable files
        assets, links = _JS_ASSET.findall(text), []
    return [(str(path), u) for u in assets], [(str(path), u) for u in links]


def _scan_site(site_dir: Path) -> tuple[list[str], list[str]]:
    site = Path(site_dir)
    assets: set[str] = set()
    links: set[str] = set()
    for f in site.rglob("*"):
        if f.suffix in (".html", ".css", ".js") and f.is_file():
            a, n = _scan_file(f, f.read_text(encoding="utf-8", errors="replace"))
            assets.update(f"{Path(p).relative_to(site)}: {u}" for p, u in a)
            links.update(f"{Path(p).relative_to(site)}: {u}" for p, u in n)
    return sorted(assets), sorted(links)


def find_external_urls(site_dir: Path) -> list[str]:
    """List external (http(s):// or //) resource loads in a site, as ``"<file>: <url>"``.

    Covers script/link/img/... ``src``/``href`` and inline ``style`` / ``<style>`` ``url()`` in
    HTML, ``url()``/``@import`` in CSS, and file-like URL string literals in JS. ``<a href>``
    navigation links are not loads: see :func:`find_external_links`. Empty means offline-safe.
    """
    return _scan_site(site_dir)[0]


def find_external_links(site_dir: Path) -> list[str]:
    """List external ``<a>``/``<area>`` navigation links (harmless offline), ``"<file>: <url>"``."""
    return _scan_site(site_dir)[1]
