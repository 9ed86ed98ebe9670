"""Render the barometer's static site from the published snapshot.

    build_site(snapshot, out_dir, seeds_dir)  -> SiteResult

writes, into a new folder `out_dir`:

- `index.html` and `<theme>.html` in French, `en/index.html` and `en/<theme>.html` in English;
- `data/<survey>__<indicator>.csv`: every published figure of an indicator (all waves and
  breakdowns), the download beside each chart;
- `assets/`: the site's CSS and script, and Vega, Vega-Lite and vega-embed copied from the
  npm packages in `vendor/` (no CDN: the site works offline).

Pages, their order and which indicator goes where come from the site configuration
(`observatoire.site.config`); the templates loop over it, so a new indicator needs a row, not
a template edit.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from observatoire.publish import snapshot as publisher
from observatoire.site.blocks import indicator_block, indicator_key, key_figure
from observatoire.site.config import (
    FALLBACK_THEME,
    Placement,
    SiteConfig,
    load_config,
    segment_type_labels,
)
from observatoire.site.data import Snapshot, read_snapshot
from observatoire.site.texts import TEXTS

log = logging.getLogger(__name__)

LANGS = ("fr", "en")  # the first is the default, at the root of the site
VENDOR_DIR = Path(os.environ.get("OBSERVATOIRE_VENDOR_DIR",
                                 Path(__file__).parents[2] / "vendor"))
VENDORED_SCRIPTS = (  # (npm file, name in assets/), loaded in this order
    ("vega/build/vega.min.js", "vega.min.js"),
    ("vega-lite/build/vega-lite.min.js", "vega-lite.min.js"),
    ("vega-embed/build/vega-embed.min.js", "vega-embed.min.js"),
)
STATIC_DIR = Path(__file__).parent / "static"


@dataclass
class SiteResult:
    out_dir: Path
    index: Path
    pages: list[Path] = field(default_factory=list)
    csv_files: list[Path] = field(default_factory=list)
    indicators: int = 0
    unplaced: list[str] = field(default_factory=list)  # shown under the fallback theme
    missing: list[str] = field(default_factory=list)  # configured, not in the snapshot


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("observatoire.site", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    # JSON inside <script type="application/json">: "</" must not close the element.
    env.filters["script_json"] = lambda data: json.dumps(
        data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return env


def _placements(config: SiteConfig, snapshot: Snapshot) -> tuple[list[Placement], list[str],
                                                                   list[str]]:
    """Configured placements of indicators in the snapshot, then the fallback for the others."""
    present = list(dict.fromkeys((f["survey"], f["indicator_id"]) for f in snapshot.figures))
    configured = {(p.survey, p.indicator_id): p for p in config.placements}
    missing = [indicator_key(*k) for k in configured if k not in set(present)]
    unplaced = [k for k in present if k not in configured]
    fallback = [Placement(indicator, survey, FALLBACK_THEME, 10_000 + i, "bars", (), ())
                for i, (survey, indicator) in enumerate(unplaced)]
    placements = [p for p in config.placements if (p.survey, p.indicator_id) in set(present)]
    return placements + fallback, [indicator_key(*k) for k in unplaced], missing


def _write_csv(path: Path, figs: list[dict]) -> None:
    columns = list(figs[0])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for fig in figs:
            writer.writerow(["" if fig[c] is None else fig[c] for c in columns])


def _copy_assets(out_dir: Path, vendor_dir: Path) -> None:
    assets = out_dir / "assets"
    assets.mkdir(parents=True)
    for npm_file, name in VENDORED_SCRIPTS:
        source = vendor_dir / "node_modules" / npm_file
        if not source.is_file():
            raise FileNotFoundError(f"{source} missing: run `npm ci --prefix vendor`")
        shutil.copyfile(source, assets / name)
    for static in STATIC_DIR.iterdir():
        shutil.copyfile(static, assets / static.name)


def build_site(snapshot_path: Path, out_dir: Path, seeds_dir: Path,
               vendor_dir: Path = VENDOR_DIR) -> SiteResult:
    """Write the whole site into the new folder `out_dir` (see the module docstring)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} already exists")
    config = load_config(Path(seeds_dir))
    type_labels = segment_type_labels(Path(seeds_dir))
    snapshot = read_snapshot(Path(snapshot_path))
    placements, unplaced, missing = _placements(config, snapshot)
    by_indicator = {k: list(g) for k, g in groupby(
        snapshot.figures, key=lambda f: (f["survey"], f["indicator_id"]))}
    synthetic = sorted({w.wave_year for w in snapshot.waves if w.is_synthetic})
    env = _environment()
    out_dir.mkdir(parents=True)
    _copy_assets(out_dir, Path(vendor_dir))
    result = SiteResult(out_dir=out_dir, index=out_dir / "index.html",
                        indicators=len(placements), unplaced=unplaced, missing=missing)
    (out_dir / "data").mkdir()
    for placement in placements:
        path = out_dir / "data" / f"{indicator_key(placement.survey, placement.indicator_id)}.csv"
        _write_csv(path, by_indicator[(placement.survey, placement.indicator_id)])
        result.csv_files.append(path)
    themes = [t for t in config.themes if any(p.theme == t.theme_id for p in placements)]
    for lang in LANGS:
        prefix = "" if lang == LANGS[0] else "../"
        folder = out_dir if lang == LANGS[0] else out_dir / lang
        folder.mkdir(exist_ok=True)
        common = {
            "lang": lang, "t": TEXTS[lang], "root": prefix,
            "themes": [{"id": t.theme_id, "title": t.title[lang]} for t in themes],
            "synthetic_waves": ", ".join(str(w) for w in synthetic),
        }
        pages = [("index", None)] + [(t.theme_id, t) for t in themes]
        for name, theme in pages:
            if theme is None:
                context = _home(placements, by_indicator, lang, type_labels)
                template = env.get_template("home.html")
            else:
                blocks = [indicator_block(p, by_indicator[(p.survey, p.indicator_id)],
                                          p.segment_types, lang, type_labels,
                                          indicator_key(p.survey, p.indicator_id))
                          for p in placements if p.theme == theme.theme_id]
                context = {"theme": {"title": theme.title[lang], "intro": theme.intro[lang]},
                           "blocks": [b for b in blocks if b]}
                template = env.get_template("theme.html")
            page = folder / f"{name}.html"
            page.write_text(template.render(**common, **context, page=name,
                                            other_href=_other_href(lang, name)),
                            encoding="utf-8")
            result.pages.append(page)
    log.info("site: %d pages, %d indicators in %s", len(result.pages), len(placements), out_dir)
    return result


def _other_href(lang: str, name: str) -> str:
    """The same page in the other language."""
    return f"en/{name}.html" if lang == LANGS[0] else f"../{name}.html"


def _home(placements: list[Placement], by_indicator: dict, lang: str, type_labels: dict) -> dict:
    home = [p for p in placements if p.home_segment_types]
    cards, blocks, waves = [], [], []
    for p in home:
        figs = by_indicator[(p.survey, p.indicator_id)]
        card = key_figure(p, figs, lang)
        if card:
            cards.append(card)
            waves.append(card["wave"])
        block = indicator_block(p, figs, tuple(t for t in p.home_segment_types if t != "all"),
                                lang, type_labels,
                                "home__" + indicator_key(p.survey, p.indicator_id))
        if block:
            blocks.append(block)
    return {"cards": cards, "blocks": blocks, "wave": max(waves) if waves else ""}


def publish_site(snapshot_path: Path, site_link: Path, seeds_dir: Path,
                 vendor_dir: Path = VENDOR_DIR) -> SiteResult:
    """Build the site beside `site_link` and swap it in atomically (as the auditor's report):
    a failed build leaves the previous site untouched."""
    site_link = Path(site_link)
    site_link.parent.mkdir(parents=True, exist_ok=True)
    build_dir = site_link.parent / f".{site_link.name}-{uuid.uuid4().hex[:8]}"
    try:
        result = build_site(snapshot_path, build_dir, seeds_dir, vendor_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    publisher.swap_dir(build_dir, site_link)
    result.index = site_link / "index.html"
    return result
