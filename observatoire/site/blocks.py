"""What the templates get for one indicator: formatted table rows, a Vega-Lite chart, the key
figure of a home-page card. Every string is formatted here for one language; the templates only
lay them out.
"""

from __future__ import annotations

from observatoire.site import formatting as fmt
from observatoire.site.config import Placement
from observatoire.site.texts import TEXTS

# Waves from the oldest to the latest (blue, >= 3:1 on white), neighbours clearly apart; the
# black interval rule stays visible on every bar.
WAVE_COLOURS = ("#d9d9d9", "#f2b872", "#a9cbea", "#3d7bbf")
SYNTHETIC_ONLY_COLOUR = "#8a8a8a"
# Where a figure comes from (fct_indicator.provenance); null = unknown (older snapshots).
SYNTHETIC_ONLY = "synthetic_only"
REPRODUCES_PUBLISHED = "reproduces_published"


def indicator_key(survey: str, indicator_id: str) -> str:
    """`<survey>__<indicator>`: the indicator's section id and CSV file name."""
    return f"{survey}__{indicator_id}"


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
        "comparability": text.get(comparability, comparability),
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
    x_scale: dict[str, object] = {"domain": [0, 100]} if unit == "share" else {
        "domain": [0, maximum], "nice": True}
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


def indicator_block(placement: Placement, figs: list[dict], segment_types: tuple[str, ...],
                    lang: str, type_labels: dict, block_id: str) -> dict | None:
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
        "csv": f"data/{indicator_key(placement.survey, placement.indicator_id)}.csv",
        "has_low_base": any(r["is_low_base"] for r in rows),
        "has_synthetic_only": any(r["is_synthetic_only"] for r in rows),
    }


def key_figure(placement: Placement, figs: list[dict], lang: str) -> dict | None:
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
