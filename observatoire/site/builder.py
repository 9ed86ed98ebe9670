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

from observatoire import publish as publisher
from observatoire.site import formatting as fmt
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
# Waves from the oldest to the latest (blue, >= 3:1 on white), neighbours clearly apart; the
# black interval rule stays visible on every bar.
WAVE_COLOURS = ("#d9d9d9", "#f2b872", "#a9cbea", "#3d7bbf")
SYNTHETIC_ONLY_COLOUR = "#8a8a8a"
# Where a figure comes from (fct_indicator.provenance); null = unknown (older snapshots).
SYNTHETIC_ONLY = "synthetic_only"
REPRODUCES_PUBLISHED = "reproduces_published"


@dataclass
class SiteResult:
    out_dir: Path
    index: Path
    pages: list[Path] = field(default_factory=list)
    csv_files: list[Path] = field(default_factory=list)
    indicators: int = 0
    unplaced: list[str] = field(default_factory=list)  # shown under the fallback theme
    missing: list[str] = field(default_factory=list)  # configured, not in the snapshot


def _key(survey: str, indicator_id: str) -> str:
    return f"{survey}__{indicator_id}"


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
    missing = [_key(*k) for k in configured if k not in set(present)]
    unplaced = [k for k in present if k not in configured]
    fallback = [Placement(indicator, survey, FALLBACK_THEME, 10_000 + i, "bars", (), ())
                for i, (survey, indicator) in enumerate(unplaced)]
    placements = [p for p in config.placements if (p.survey, p.indicator_id) in set(present)]
    return placements + fallback, [_key(*k) for k in unplaced], missing


def _significance(fig: dict, text: dict) -> str:
    if fig["comparability"] in (None, "series_start", "break") or fig["change"] is None:
        return ""
    if fig["provenance"] == SYNTHETIC_ONLY or fig["is_significant_95"] is None:
        return text["not_assessable"]  # no claim on an artefact or where none may be made
    return text["significant"] if fig["is_significant_95"] else text["not_significant"]


def _change(fig: dict, lang: str) -> str:
    if fig["change"] is None:
        return ""
    digits = 0 if fig["change_unit"] == "count" else fmt.DECIMALS
    unit = f"\u00a0{TEXTS[lang]['points']}" if fig["change_unit"] == "points" else ""
    return fmt.signed(fig["change"], lang, digits) + unit


def _interval(fig: dict, lang: str) -> str:
    if fig["ci_low"] is None or fig["ci_high"] is None:
        return ""
    low, high = (fmt.value(fig[c], fig["unit"], lang) for c in ("ci_low", "ci_high"))
    return f"{low} – {high}"


def _row(fig: dict, lang: str, type_labels: dict) -> dict:
    """One table row: every field formatted for `lang`, and the flags the template marks."""
    text = TEXTS[lang]
    comparability = fig["comparability"] or "series_start"
    notes = []
    if fig["is_low_base"]:
        notes.append(text["low_base"])
    if fig["provenance"] == SYNTHETIC_ONLY:
        notes.append(text["synthetic_only"])
    elif fig["provenance"] == REPRODUCES_PUBLISHED:
        notes.append(text["reproduces_published"])
    return {
        "segment_type": type_labels.get((fig["survey"], fig["segment_type"]), {}).get(
            lang, fig["segment_type"]),
        "segment": fig[f"segment_label_{lang}"] or fig["segment_value"],
        "wave": str(fig["wave_year"]),
        "value": fmt.value(fig["value"], fig["unit"], lang),
        "interval": _interval(fig, lang),
        "base_n": fmt.number(fig["base_n"], lang, 0),
        "change": _change(fig, lang),
        "significance": _significance(fig, text),
        "comparability": text[comparability] if comparability in text else comparability,
        "comparability_note": fig["comparability_note"] or "",
        "notes": notes,
        "is_low_base": bool(fig["is_low_base"]),
        "is_synthetic_only": fig["provenance"] == SYNTHETIC_ONLY,
        "key": _figure_key(fig),
    }


def _figure_key(fig: dict) -> str:
    """`segment_type:segment_value:wave_year`, on table rows and chart data (for tests and
    scripts that read the page)."""
    return f"{fig['segment_type']}:{fig['segment_value']}:{fig['wave_year']}"


def _ordered(figs: list[dict], segment_types: tuple[str, ...], lang: str) -> list[dict]:
    """Figures of the wanted breakdowns: overall first, then in the configured order."""
    types = list(segment_types) or list(dict.fromkeys(
        ["all", *sorted({f["segment_type"] for f in figs} - {"all"})]))
    kept = [f for f in figs if f["segment_type"] in types]
    return sorted(kept, key=lambda f: (types.index(f["segment_type"]), f["segment_value"] != "all",
                                       f[f"segment_label_{lang}"] or f["segment_value"],
                                       f["wave_year"]))


def _chart_spec(figs: list[dict], rows: list[dict], label: str, lang: str) -> dict:
    """Vega-Lite: one bar per segment and wave (waves side by side), its interval as a rule,
    one panel per breakdown; low bases pale, synthetic-only artefacts grey."""
    text = TEXTS[lang]
    unit = figs[0]["unit"]
    waves = sorted({f["wave_year"] for f in figs})
    colours = list(WAVE_COLOURS[-len(waves):]) if len(waves) <= len(WAVE_COLOURS) else None
    values = []
    for fig, row in zip(figs, rows, strict=True):
        values.append({
            "key": row["key"], "type": row["segment_type"], "segment": row["segment"],
            "wave": row["wave"], "value": fmt.chart_value(fig["value"], unit),
            "low": fmt.chart_value(fig["ci_low"], unit),
            "high": fmt.chart_value(fig["ci_high"], unit), "n": fig["base_n"],
            "shown": row["value"], "low_base": row["is_low_base"],
            "synthetic_only": row["is_synthetic_only"],
        })
    axis = {"share": text["percent_axis"], "mean": text["mean_axis"],
            "count": text["count_axis"]}[unit]
    maximum = max(v["high"] if v["high"] is not None else v["value"] for v in values)
    x_scale = {"domain": [0, 100]} if unit == "share" else {"domain": [0, maximum], "nice": True}
    colour = {"field": "wave", "type": "nominal", "title": text["wave"],
              "sort": [str(w) for w in waves],
              **({"scale": {"range": colours}} if colours else {}),
              "condition": {"test": "datum.synthetic_only", "value": SYNTHETIC_ONLY_COLOUR}}
    types = list(dict.fromkeys(v["type"] for v in values))
    return {
        "description": text["chart_label"].format(label=label),
        "data": {"values": values},
        # marks hidden from assistive technologies: the figure's label and the data table
        # beside it are the text alternative
        "config": {"aria": False, "font": "system-ui, sans-serif", "view": {"stroke": None},
                   "axis": {"labelColor": "#222", "titleColor": "#222"},
                   "header": {"labelColor": "#222"}, "legend": {"labelColor": "#222",
                                                                "titleColor": "#222"}},
        "facet": {"row": {"field": "type", "type": "nominal", "sort": types, "title": None,
                          "header": {"labelAngle": 0, "labelAlign": "left",
                                     "labelAnchor": "start", "labelFontWeight": "bold",
                                     "labelOrient": "top"}}},
        "resolve": {"scale": {"y": "independent"}, "axis": {"x": "independent"}},
        "spacing": 8,
        "spec": {
            "width": 300,
            "height": {"step": 14},
            "encoding": {
                "y": {"field": "segment", "type": "nominal",
                      "sort": list(dict.fromkeys(v["segment"] for v in values)),
                      "title": None, "axis": {"labelLimit": 200}},
                "yOffset": {"field": "wave", "type": "nominal", "sort": [str(w) for w in waves]},
            },
            "layer": [
                {"mark": {"type": "bar", "tooltip": True, "aria": False},
                 "encoding": {
                     "x": {"field": "value", "type": "quantitative", "title": axis,
                           "scale": x_scale},
                     "color": colour,
                     "opacity": {"condition": {"test": "datum.low_base", "value": 0.45},
                                 "value": 1},
                     "tooltip": [{"field": "segment", "title": text["segment"]},
                                 {"field": "wave", "title": text["wave"]},
                                 {"field": "shown", "title": text["value"]},
                                 {"field": "n", "title": text["base_n"]}]}},
                {"mark": {"type": "rule", "color": "#222", "aria": False},
                 "encoding": {"x": {"field": "low", "type": "quantitative"},
                              "x2": {"field": "high"}}},
            ],
        },
    }


def _block(placement: Placement, figs: list[dict], segment_types: tuple[str, ...], lang: str,
           type_labels: dict, block_id: str) -> dict | None:
    """What a template needs for one indicator: title, base, chart, table rows, CSV link."""
    figs = _ordered(figs, segment_types, lang)
    if not figs:
        return None
    rows = [_row(f, lang, type_labels) for f in figs]
    latest = figs[-1]
    label = latest[f"indicator_label_{lang}"] or placement.indicator_id
    base_labels = list(dict.fromkeys(f[f"base_label_{lang}"] for f in figs
                                     if f[f"base_label_{lang}"]))
    return {
        "id": block_id,
        "label": label,
        "base_label": " / ".join(base_labels),
        "chart": _chart_spec(figs, rows, label, lang) if placement.chart == "bars" else None,
        "rows": rows,
        "csv": f"data/{_key(placement.survey, placement.indicator_id)}.csv",
        "has_low_base": any(r["is_low_base"] for r in rows),
        "has_synthetic_only": any(r["is_synthetic_only"] for r in rows),
    }


def _key_figure(placement: Placement, figs: list[dict], lang: str) -> dict | None:
    """The overall figure of the indicator's latest wave, for a card on the home page."""
    overall = [f for f in figs if f["segment_type"] == "all"]
    if not overall:
        return None
    fig = max(overall, key=lambda f: f["wave_year"])
    text = TEXTS[lang]
    return {
        "label": fig[f"indicator_label_{lang}"],
        "value": fmt.value(fig["value"], fig["unit"], lang),
        "interval": _interval(fig, lang),
        "base_label": fig[f"base_label_{lang}"],
        "base_n": fmt.number(fig["base_n"], lang, 0),
        "wave": str(fig["wave_year"]),
        "previous_wave": str(fig["previous_wave_year"]) if fig["previous_wave_year"] else "",
        "change": _change(fig, lang),
        "significance": _significance(fig, text),
        "comparability": text.get(fig["comparability"] or "series_start", ""),
        "comparability_note": fig["comparability_note"] or "",
        "is_low_base": bool(fig["is_low_base"]),
        "is_synthetic_only": fig["provenance"] == SYNTHETIC_ONLY,
        "is_published": fig["provenance"] == REPRODUCES_PUBLISHED,
    }


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
        path = out_dir / "data" / f"{_key(placement.survey, placement.indicator_id)}.csv"
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
                blocks = [_block(p, by_indicator[(p.survey, p.indicator_id)], p.segment_types,
                                 lang, type_labels, _key(p.survey, p.indicator_id))
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
        card = _key_figure(p, figs, lang)
        if card:
            cards.append(card)
            waves.append(card["wave"])
        block = _block(p, figs, tuple(t for t in p.home_segment_types if t != "all"), lang,
                       type_labels, "home__" + _key(p.survey, p.indicator_id))
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
