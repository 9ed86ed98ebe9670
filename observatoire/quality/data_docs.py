"""Offline Data Docs for Great Expectations.

GX templates load Bootstrap, bootstrap-table, bootstrap-datepicker, bootstrap-dark, jQuery,
Popper, Vega/Vega-Lite/Vega-Embed and Font Awesome from CDNs, and the GX logo from S3.
``build_offline_docs`` builds the site into ``out_dir``, maps every CDN URL it finds to the same
file of the matching npm package installed from ``vendor/package.json`` (``npm ci --prefix
vendor``), copies it (and the fonts its CSS references) to ``static/vendor/<package>/``,
rewrites the reference to a relative path and drops ``integrity``/``crossorigin`` (CORS checks
fail on ``file://``). The logo points to GX's own ``static/images/logo-long.png``. An unknown
URL raises, so a GX upgrade cannot silently reintroduce a network load. ``find_external_urls``
checks the result.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from great_expectations.render.renderer.site_builder import SiteBuilder

log = logging.getLogger(__name__)

VENDOR_DIR = Path(os.environ.get("OBSERVATOIRE_VENDOR_DIR", Path(__file__).parents[2] / "vendor"))
NODE_MODULES = VENDOR_DIR / "node_modules"
NPM_ALIASES = {"font-awesome": "@fortawesome/fontawesome-free"}
GX_ASSETS_HOST = "great-expectations-web-assets.s3.us-east-2.amazonaws.com"
GX_LOGO = "static/images/logo-long.png"  # shipped by GX inside every site
_URL = r"(?:https?:)?//[^\s\"'<>()]+"
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
_ASSET_EXT = r"\.(?:js|mjs|css|woff2?|ttf|otf|eot|png|jpe?g|gif|svg)"
_JS_ASSET = re.compile(r"""["'](""" + _URL + _ASSET_EXT + r""")["']""")
_EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)


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

    ASSET_ATTRS: ClassVar[set[str]] = {"src", "href", "poster", "data", "srcset", "background",
                                       "xlink:href"}

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
