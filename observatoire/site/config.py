"""The site's configuration: two small CSV files beside the dbt seeds, read from the project.

- `seeds/site_themes.csv`: one row per page (theme_id, order, FR/EN title and introduction);
- `seeds/site_indicators.csv`: which indicator goes on which page, in which order, as which
  chart (`bars`, or `table` for a table only), with which breakdowns (`segment_types`, `|`
  separated, empty = every breakdown computed) and, if `home_segment_types` is not empty, on
  the home page with those breakdowns.

They are presentation, not data: the figures all come from the published snapshot. dbt does not
load them (`.dbtignore`), so a mistake here can never stop a refresh of the warehouse. An
indicator of the snapshot that no row places goes to the theme `other` (nothing computed is
hidden from the site by omission).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

THEMES_FILE = "site_themes.csv"
INDICATORS_FILE = "site_indicators.csv"
FALLBACK_THEME = "other"
CHARTS = ("bars", "table")


class SiteConfigError(ValueError):
    """The site configuration is inconsistent (file, row and reason in the message)."""


@dataclass(frozen=True)
class Theme:
    theme_id: str
    order: int
    title: dict[str, str]
    intro: dict[str, str]


@dataclass(frozen=True)
class Placement:
    indicator_id: str
    survey: str
    theme: str
    order: int
    chart: str
    segment_types: tuple[str, ...]  # empty: every breakdown of the indicator
    home_segment_types: tuple[str, ...]  # empty: not on the home page


@dataclass(frozen=True)
class SiteConfig:
    themes: list[Theme]
    placements: list[Placement]

    def theme(self, theme_id: str) -> Theme:
        return next(t for t in self.themes if t.theme_id == theme_id)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|") if part.strip())


def _rows(path: Path, required: set[str]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise SiteConfigError(f"{path}: missing columns {sorted(missing)}")
        return list(reader)


def _int(path: Path, line: int, column: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SiteConfigError(
            f"{path}, row {line}, column {column}: not an integer: {text!r}") from None


def load_config(seeds_dir: Path) -> SiteConfig:
    """Read and check both files (unique ids, known themes and chart kinds)."""
    themes_path, indicators_path = seeds_dir / THEMES_FILE, seeds_dir / INDICATORS_FILE
    themes: list[Theme] = []
    for line, row in enumerate(_rows(themes_path, {"theme_id", "order", "title_fr", "title_en",
                                                  "intro_fr", "intro_en"}), start=2):
        if any(t.theme_id == row["theme_id"] for t in themes):
            raise SiteConfigError(f"{themes_path}, row {line}: theme {row['theme_id']} twice")
        themes.append(Theme(row["theme_id"], _int(themes_path, line, "order", row["order"]),
                            {"fr": row["title_fr"], "en": row["title_en"]},
                            {"fr": row["intro_fr"], "en": row["intro_en"]}))
    if not any(t.theme_id == FALLBACK_THEME for t in themes):
        raise SiteConfigError(f"{themes_path}: the theme {FALLBACK_THEME!r} is required "
                              "(indicators placed nowhere go there)")
    known = {t.theme_id for t in themes}
    placements: list[Placement] = []
    seen: set[tuple[str, str]] = set()
    columns = {"indicator_id", "survey", "theme", "order", "chart", "segment_types",
               "home_segment_types"}
    for line, row in enumerate(_rows(indicators_path, columns), start=2):
        where = f"{indicators_path}, row {line}"
        key = (row["indicator_id"], row["survey"])
        if key in seen:
            raise SiteConfigError(f"{where}: indicator {key} placed twice")
        seen.add(key)
        if row["theme"] not in known:
            raise SiteConfigError(f"{where}, column theme: unknown theme {row['theme']!r}")
        if row["chart"] not in CHARTS:
            raise SiteConfigError(f"{where}, column chart: {row['chart']!r} not in {CHARTS}")
        placements.append(Placement(
            row["indicator_id"], row["survey"], row["theme"],
            _int(indicators_path, line, "order", row["order"]), row["chart"],
            _split(row["segment_types"]), _split(row["home_segment_types"])))
    return SiteConfig(sorted(themes, key=lambda t: t.order),
                      sorted(placements, key=lambda p: p.order))


def segment_type_labels(seeds_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    """{(survey, segment_type): {"fr": ..., "en": ...}} from `seeds/segment_types.csv`."""
    path = seeds_dir / "segment_types.csv"
    if not path.exists():
        return {}
    return {(r["survey"], r["segment_type"]): {"fr": r["label_fr"], "en": r["label_en"]}
            for r in _rows(path, {"survey", "segment_type", "label_fr", "label_en"})}
