"""The public barometer site, built from a published snapshot of two waves.

The fixture copies the project, adds a 2025 professional wave made from the 2024 file (fewer
non-users, so that trends move; only five respondents aged 60+, so that their 2025 figures fall
under `min_publish_base`), a new indicator placed on the site by one configuration row and one
placed nowhere, builds the warehouse with dbt, publishes the snapshot and builds the site.
Pages are then read as text, parsed as HTML and opened in headless Chromium (playwright with
the system's /usr/bin/chromium; no browser is downloaded).
"""

from __future__ import annotations

import csv
import html.parser
import json
import os
import re
import shutil
import stat
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from dagster import DagsterInstance
from PIL import Image

from observatoire.publish import snapshot as publisher
from observatoire.site import build_site
from orchestration.runner import refresh
from orchestration.site import SITE_KEY
from tests.conftest import build, drop_shipped_wave, project_copy
from tests.orchestration_support import settings_in

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parents[1] / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
NEW_YEAR = 2025
OLDER_2025 = 5  # respondents aged 60+ in 2025: under min_publish_base (10), suppressed
# Template phrases that state the confidence level: the only number not from the data.
LEVEL_PHRASES = {"fr": ("à 95\u00a0%", "IC 95\u00a0%", "seuil 95\u00a0%"),
                 "en": ("95% confidence", "95% CI", "95% level")}
# One page of each template, the largest theme pages (axe takes ~9 s on each page).
AXE_PAGES = ("index", "usage", "public")
NUMBER = re.compile(r"\d[\d\u202f\u00a0.,]*\d|\d")


# --- building a two-wave snapshot and its site ------------------------------------------------

def _add_wave(seeds: Path) -> dict:
    """2025 = the 2024 professional file without its non-users who are screenwriters only
    (a real change), and with all but five respondents aged 60+ recoded to 45-59 (a breakdown
    under min_publish_base that crosses nothing); codebook and wave row copied from 2024."""
    with open(seeds / "raw" / "pro_2024__synthetic.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames, list(reader)
    professions = [c for c in columns if c.startswith("profession__")]
    kept, older = [], 0
    for row in rows:
        screenwriter_only = [row[c] for c in professions] == ["1", "0", "0", "0"]
        if row["ai_tried"] == "2" and screenwriter_only:
            continue
        if row["age_band"] == "4":
            older += 1
            if older > OLDER_2025:
                row = {**row, "age_band": "3"}
        kept.append({**row, "source_row": str(len(kept) + 1)})
    with open(seeds / "raw" / f"pro_{NEW_YEAR}__synthetic.csv", "w", encoding="utf-8",
              newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    codebook = (seeds / "codebooks" / "pro_2024.csv").read_text(encoding="utf-8")
    (seeds / "codebooks" / f"pro_{NEW_YEAR}.csv").write_text(
        codebook.replace("pro,2024,", f"pro,{NEW_YEAR},"), encoding="utf-8")
    # its publication prints the headline share, so that figure is pinned (provenance
    # `reproduces_published`) and its change may claim significance
    answered = [r for r in kept if r["ai_tried"] in ("1", "2")]
    share = 100 * sum(r["ai_tried"] == "1" for r in answered) / len(answered)
    (seeds / "published" / f"published_figures_{NEW_YEAR}.csv").write_text(
        "wave_year,survey,indicator_id,segment_type,segment_value,value,unit,printed_decimals,"
        "range_low,range_high,base,source,note\n"
        f"{NEW_YEAR},pro,ai_tried,all,all,{share:.1f},pct,1,,,all respondents,test fixture,\n",
        encoding="utf-8")
    waves = (seeds / "waves.csv").read_text(encoding="utf-8").splitlines()
    pro_2024 = next(line for line in waves if line.startswith("2024,pro,"))
    (seeds / "waves.csv").write_text(
        "\n".join([*waves, pro_2024.replace("2024", str(NEW_YEAR))]) + "\n", encoding="utf-8")
    return {"respondents": len(kept)}


def _add_indicators(seeds: Path) -> None:
    """Two new indicators: one placed on the usage page by a row, one placed nowhere."""
    with open(seeds / "indicator_catalogue.csv", "a", encoding="utf-8") as f:
        f.write("genai_daily,pro,share,genai_frequency=daily,genai_frequency=*,,all|profession,"
                "Usage quotidien de l'IA générative,Daily use of generative AI,"
                "Ont essayé l'IA générative,Tried generative AI\n")
        f.write("ai_daily,pro,share,ai_frequency=daily,ai_frequency=*,,all,"
                "Usage quotidien de l'IA,Daily use of AI,Ont essayé l'IA,Tried AI\n")
    with open(seeds / "site_indicators.csv", "a", encoding="utf-8") as f:
        f.write("genai_daily,pro,usage,6,bars,all|profession,\n")


@pytest.fixture(scope="module")
def site(parsed_project, tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    project, warehouse = project_copy(parsed_project, root)
    seeds = project / "seeds"
    drop_shipped_wave(seeds, NEW_YEAR)  # replaced by the made-up 2025 wave below
    wave = _add_wave(seeds)
    _add_indicators(seeds)
    build(project, warehouse)
    published = publisher.publish(warehouse, root / "published", run_id="site-test")
    result = build_site(published.snapshot, root / "site", seeds)
    return SimpleNamespace(root=root, seeds=seeds, snapshot=published.snapshot,
                           dir=result.out_dir, result=result, wave=wave)


def _rows(snapshot: Path, sql: str, params=None) -> list[dict]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _figures(snapshot: Path, suppressed: bool) -> list[dict]:
    return _rows(snapshot, """
        select f.*, t.change, t.change_unit, t.previous_wave_year, t.is_significant_95,
               t.comparability, t.comparability_note
        from marts.fct_indicator f left join marts.fct_indicator_trend t
            using (wave_year, survey, indicator_id, segment_type, segment_value)
        where f.is_suppressed = ?""", [suppressed])


def _key(fig: dict) -> str:
    return f"{fig['segment_type']}:{fig['segment_value']}:{fig['wave_year']}"


def _page(site_dir: Path, lang: str, name: str) -> Path:
    return site_dir / (f"{name}.html" if lang == "fr" else f"en/{name}.html")


def _every_page(site_dir: Path) -> list[tuple[str, Path]]:
    return ([("fr", p) for p in sorted(site_dir.glob("*.html"))]
            + [("en", p) for p in sorted((site_dir / "en").glob("*.html"))])


class _Page(html.parser.HTMLParser):
    """Visible text nodes, links, each table row (section id, data-key, its cells' text) and
    each chart's data (section id, the spec's values)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self.rows: list[tuple[str, str, list[str]]] = []
        self.charts: list[tuple[str, list[dict]]] = []
        self._section = None
        self._script = None
        self._row: tuple[str, str, list[str]] | None = None
        self._cell: list[str] | None = None

    @property
    def row_keys(self) -> dict[str, set[str]]:
        """Section id -> the data-key of its table rows."""
        out: dict[str, set[str]] = {}
        for section, key, _ in self.rows:
            out.setdefault(section, set()).add(key)
        return out

    @property
    def chart_keys(self) -> dict[str, set[str]]:
        """Section id -> the keys of its chart's data."""
        out: dict[str, set[str]] = {}
        for section, values in self.charts:
            out.setdefault(section, set()).update(v["key"] for v in values)
        return out

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._section = attrs.get("id")
        elif tag == "tr" and "data-key" in attrs:
            self._row = (self._section, attrs["data-key"], [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag in ("script", "style"):
            self._script = attrs
        for name in ("src", "href"):
            if name in attrs:
                self.links.append(attrs[name])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row[2].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag in ("script", "style"):
            self._script = None

    def handle_data(self, data):
        if self._script is None:
            if data.strip():
                self.texts.append(data)
            if self._cell is not None:
                self._cell.append(data)
        elif self._script.get("type") == "application/json":
            self.charts.append((self._section, json.loads(data)["data"]["values"]))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _number(x: float, digits: int, lang: str) -> str:
    """Independent of the site's formatter: Python's own rounding, then each locale's marks
    (French: decimal comma, narrow no-break space between thousands)."""
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def _printable(fig: dict, lang: str) -> set[str]:
    """Every way a published figure may be printed in `lang`."""
    unit, out = fig["unit"], {str(fig["wave_year"]), _number(fig["base_n"], 0, lang)}
    for column in ("value", "ci_low", "ci_high"):
        if fig[column] is not None:
            scaled = 100 * fig[column] if unit == "share" else fig[column]
            out.add(_number(scaled, 0 if unit == "count" else 1, lang))
    if fig["previous_wave_year"] is not None:
        out.add(str(fig["previous_wave_year"]))
    if fig["change"] is not None:
        out.add(_number(abs(fig["change"]), 0 if fig["change_unit"] == "count" else 1, lang))
    return out



def _scaled(fig: dict, column: str) -> float | None:
    """A figure's column as printed: shares in %, counts and means as they are."""
    x = fig[column]
    return None if x is None else (100 * x if fig["unit"] == "share" else x)


def _shown(fig: dict, column: str, lang: str) -> list[str]:
    """The number printed for a figure's column in `lang` (none when the column is null)."""
    x = _scaled(fig, column)
    return [] if x is None else [_number(x, 0 if fig["unit"] == "count" else 1, lang)]

# --- every number on every page comes from the snapshot ---------------------------------------

def test_every_number_printed_is_in_the_snapshot_and_french_in_french(site):
    figures = _figures(site.snapshot, suppressed=False)
    labels = {f[c] for f in figures for c in (
        "indicator_label_fr", "indicator_label_en", "segment_label_fr", "segment_label_en",
        "base_label_fr", "base_label_en", "comparability_note") if f[c]}
    allowed = {lang: set().union(*(_printable(f, lang) for f in figures)) for lang in ("fr", "en")}
    checked = 0
    for lang, path in _every_page(site.dir):
        for text in _parse(path).texts:
            for label in sorted(labels, key=len, reverse=True):  # labels are the warehouse's
                text = text.replace(label, " ")
            for phrase in LEVEL_PHRASES[lang]:
                text = text.replace(phrase, " ")
            for token in NUMBER.findall(text):
                assert token in allowed[lang], f"{path.name} ({lang}): {token!r} in {text!r}"
                checked += 1
    assert checked > 2000
    # the key figure of the home page, exactly as each language prints it
    latest = next(f for f in figures if f["indicator_id"] == "ai_tried"
                  and f["segment_type"] == "all" and f["wave_year"] == NEW_YEAR)
    home_fr = (site.dir / "index.html").read_text(encoding="utf-8")
    home_en = (site.dir / "en" / "index.html").read_text(encoding="utf-8")
    assert f"{_number(100 * latest['value'], 1, 'fr')}\u00a0%" in home_fr
    assert f"{_number(100 * latest['value'], 1, 'en')}%" in home_en
    change = latest["change"]
    sign = "+" if change > 0 else "\u2212"
    assert f"{sign}{_number(abs(change), 1, 'fr')}\u00a0pts" in home_fr
    assert latest["is_significant_95"] is True  # a hundred non-users fewer: a real change
    assert "(significative)" in home_fr and "(significant)" in home_en


def test_every_table_row_and_chart_datum_prints_its_own_figure(site):
    """Each row of each table prints its own figure (the row's section is the indicator, its
    data-key the segment and wave): label, wave, value, interval, base and change, each
    exactly as the warehouse holds it, in the page's language; each chart datum holds the
    same figure and prints it as its row does."""
    figures = {(f"{f['survey']}__{f['indicator_id']}", _key(f)): f
               for f in _figures(site.snapshot, suppressed=False)}
    rows = data = 0
    for lang, path in _every_page(site.dir):
        page = _parse(path)
        printed = {}
        for section, key, cells in page.rows:
            where = (path.name, lang, section, key)
            fig = figures[(section.removeprefix("home__"), key)]
            numbers = [NUMBER.findall(cell) for cell in cells]
            assert len(cells) == 10, where
            assert cells[1] == fig[f"segment_label_{lang}"], where
            assert numbers[2] == [str(fig["wave_year"])], where
            assert numbers[3] == _shown(fig, "value", lang), (where, cells[3])
            assert numbers[4] == _shown(fig, "ci_low", lang) + _shown(fig, "ci_high", lang), \
                (where, cells[4])
            assert numbers[5] == [_number(fig["base_n"], 0, lang)], where
            change = [] if fig["change"] is None else [
                _number(abs(fig["change"]), 0 if fig["change_unit"] == "count" else 1, lang)]
            assert numbers[6] == change, (where, cells[6])
            assert not any(numbers[i] for i in (0, 7, 8, 9)), (where, cells)
            printed[(section, key)] = cells[3]
            rows += 1
        for section, values in page.charts:
            for datum in values:
                fig = figures[(section.removeprefix("home__"), datum["key"])]
                assert datum["n"] == fig["base_n"], (path.name, section, datum)
                assert datum["value"] == pytest.approx(_scaled(fig, "value"), abs=1e-9)
                assert datum["shown"] == printed[(section, datum["key"])]
                data += 1
    # every page's tables and charts were read (two languages, every indicator placed)
    assert rows > 1000 and data > 1000

def test_csv_files_hold_exactly_the_published_figures(site):
    shown = _figures(site.snapshot, suppressed=False)
    expected: dict[str, set] = {}
    for fig in shown:
        expected.setdefault(f"{fig['survey']}__{fig['indicator_id']}", set()).add(
            (_key(fig), round(fig["value"], 9), fig["base_n"]))
    files = sorted((site.dir / "data").glob("*.csv"))
    assert {p.stem for p in files} == set(expected)
    for path in files:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        got = {(f"{r['segment_type']}:{r['segment_value']}:{r['wave_year']}",
                round(float(r["value"]), 9), int(r["base_n"])) for r in rows}
        assert len(rows) == len(got) and got == expected[path.stem], path.name


# --- a figure on too few respondents never appears --------------------------------------------

def test_suppressed_figures_never_appear(site):
    suppressed = _figures(site.snapshot, suppressed=True)
    # the constructed case: five respondents aged 60+ in 2025, many in 2024
    older = [f for f in suppressed if f["indicator_id"] == "ai_tried"
             and f["segment_value"] == "60_plus"]
    assert [(f["wave_year"], f["base_n"]) for f in older] == [(NEW_YEAR, OLDER_2025)]
    withheld = {(f"{f['survey']}__{f['indicator_id']}", _key(f)) for f in suppressed}
    assert len(withheld) > 20
    seen_rows = seen_chart = 0
    for _, path in _every_page(site.dir):
        page = _parse(path)
        for section, keys in page.row_keys.items():
            block = section.removeprefix("home__")
            assert not {(block, k) for k in keys} & withheld, path.name
            seen_rows += len(keys)
        for section, keys in page.chart_keys.items():
            block = section.removeprefix("home__")
            assert not {(block, k) for k in keys} & withheld, path.name
            seen_chart += len(keys)
    usage, home = _parse(site.dir / "usage.html"), _parse(site.dir / "index.html")
    for section in (usage.row_keys["pro__ai_tried"], usage.chart_keys["pro__ai_tried"],
                    home.row_keys["home__pro__ai_tried"], home.chart_keys["home__pro__ai_tried"]):
        assert "age_band:60_plus:2024" in section and f"age_band:under_60:{NEW_YEAR}" in section
        assert f"age_band:60_plus:{NEW_YEAR}" not in section
    # a suppressed row of the shipped 2024 poll, in a breakdown a page shows (the poll's
    # respondents by region on the sample page: 9 in Corsica)
    sample = _parse(site.dir / "sample.html").row_keys["public__respondents"]
    assert ("public__respondents", "region:corse:2024") in withheld
    assert "region:ile_de_france:2024" in sample
    assert "region:corse:2024" not in sample
    for path in (site.dir / "data").glob("*.csv"):
        with open(path, encoding="utf-8", newline="") as f:
            keys = {(path.stem, f"{r['segment_type']}:{r['segment_value']}:{r['wave_year']}")
                    for r in csv.DictReader(f)}
        assert not keys & withheld, path.name
    assert seen_rows > 1000 and seen_chart > 1000


# --- configuration, not templates ------------------------------------------------------------

def test_new_indicator_appears_from_configuration_alone(site):
    for lang, label in (("fr", "Usage quotidien de l'IA générative"),
                        ("en", "Daily use of generative AI")):
        page = _parse(_page(site.dir, lang, "usage"))
        assert "pro__genai_daily" in page.row_keys and "pro__genai_daily" in page.chart_keys
        assert label in page.texts
        assert {k.rsplit(":", 1)[1] for k in page.row_keys["pro__genai_daily"]} == {
            "2024", str(NEW_YEAR)}
    # an indicator no row places is still published, on the fallback page
    # placed indicators with no figure in this snapshot (the 2025 tool questions: this
    # fixture's 2025 wave reuses the 2024 questionnaire) are reported, not shown
    with open(site.seeds / "site_indicators.csv", encoding="utf-8", newline="") as f:
        placed = {f"{r['survey']}__{r['indicator_id']}" for r in csv.DictReader(f)}
    published = {f"{r['survey']}__{r['indicator_id']}" for r in _figures(site.snapshot, False)}
    assert site.result.unplaced == ["pro__ai_daily"]
    assert sorted(site.result.missing) == sorted(placed - published)
    other = _parse(site.dir / "other.html")
    assert set(other.row_keys) == {"pro__ai_daily"}
    assert (site.dir / "data" / "pro__ai_daily.csv").is_file()


def test_synthetic_banner_on_every_page(site):
    waves = _rows(site.snapshot, "select distinct wave_year from marts.dim_wave "
                                 "where is_synthetic order by 1")
    years = ", ".join(str(w["wave_year"]) for w in waves)
    assert years == f"2024, {NEW_YEAR}"
    pages = _every_page(site.dir)
    assert len(pages) == 2 * (1 + 12)  # home and twelve themes (with `other`), in two languages
    for lang, path in pages:
        text = path.read_text(encoding="utf-8")
        banner = "Données synthétiques" if lang == "fr" else "Synthetic data"
        assert banner in text and f"({'vague(s)' if lang == 'fr' else 'wave(s)'} {years})" in (
            text), path


def test_provenance_and_significance_contract(site, tmp_path):
    """`synthetic_only` figures: greyed, noted, no significance claimed; a null
    `is_significant_95` claims nothing either (set here on a copy of the snapshot)."""
    snapshot = tmp_path / "snapshot.duckdb"
    shutil.copyfile(site.snapshot, snapshot)
    snapshot.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with duckdb.connect(str(snapshot)) as con:
        for table in ("marts.fct_indicator", "marts.fct_indicator_trend"):
            con.execute(f"""update {table} set provenance = case
                when segment_type = 'all' then 'reproduces_published' else 'synthetic_only' end
                where indicator_id = 'ai_tried'""")
        con.execute("update marts.fct_indicator_trend set is_significant_95 = null "
                    "where indicator_id = 'genai_tried' and segment_type = 'all'")
    out = build_site(snapshot, tmp_path / "site", site.seeds).out_dir
    usage = (out / "usage.html").read_text(encoding="utf-8")
    section = usage[usage.index('id="pro__ai_tried"'):usage.index('id="pro__genai_tried"')]
    profession_rows = re.findall(r'<tr data-key="profession:[^"]+"[^>]*>.*?</tr>', section,
                                 re.S)
    assert len(profession_rows) == 10  # five professions, two waves
    for row in profession_rows:
        assert 'class="synthetic-only' in row and "artefact du générateur synthétique" in row
        assert "significative" not in row.replace("non évaluable", "")
    assert "Chiffres en gris : artefacts du générateur synthétique" in section.replace(
        "\u00a0", " ")
    spec = json.loads(re.search(r'<script type="application/json" id="pro__ai_tried-spec">'
                                r'(.*?)</script>', section, re.S).group(1))
    flags = {v["key"]: v["synthetic_only"] for v in spec["data"]["values"]}
    assert flags["all:all:2024"] is False and flags["profession:scenariste:2024"] is True
    home = html.unescape((out / "index.html").read_text(encoding="utf-8"))
    assert "reproduit le chiffre publié" in home
    genai = home[home.index("Ont déjà essayé l'IA générative"):]
    genai = genai[:genai.index("</li>")]
    assert "(non évaluable)" in genai and "(significative)" not in genai


# --- in a browser: offline, screenshots, accessibility ------------------------------------------

def test_pages_link_nothing_external(site):
    for _, path in _every_page(site.dir):
        for link in _parse(path).links:
            assert not re.match(r"^([a-z]+:)?//", link, re.I), f"{path.name}: {link}"
            target = (path.parent / link.split("#")[0]).resolve() if link.split("#")[0] else path
            assert target.is_file(), f"{path.name}: {link} does not exist"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def _open(browser, path: Path, requests: list[str], errors: list[str]):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri(), wait_until="load")
    # every chart drawn by the vendored Vega-Lite
    page.wait_for_function("[...document.querySelectorAll('.chart')].every("
                           "c => c.querySelector('svg'))", timeout=30_000)
    return page


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pages_render_offline_with_screenshots(site, browser, lang, tmp_path):
    for name in ("index", "usage"):
        path = _page(site.dir, lang, name)
        requests, errors = [], []
        page = _open(browser, path, requests, errors)
        charts = page.locator(".chart svg").count()
        assert charts == len(_parse(path).chart_keys) > 0
        shot = tmp_path / f"{name}_{lang}.png"
        page.screenshot(path=str(shot))
        page.close()
        assert errors == []
        assert requests and all(url.startswith("file://") for url in requests), requests
        with Image.open(shot) as image:
            assert image.size == (1280, 900)
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
            assert len(colours) > 200  # text, banner, cards or bars: not a blank page
            white = max(count for count, colour in colours if colour == (255, 255, 255))
            assert white < 0.9 * 1280 * 900
        keep = os.environ.get("OBSERVATOIRE_SCREENSHOTS")  # to look at them
        if keep:
            shutil.copy(shot, Path(keep) / shot.name)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_accessibility_axe_no_serious_violation(site, browser, lang):
    for name in AXE_PAGES:
        page = _open(browser, _page(site.dir, lang, name), [], [])
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        page.close()
        serious = [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
                   if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{lang}/{name}: {serious}"
        assert result["passes"], "axe ran no rule"


def test_keyboard_reaches_skip_link_and_navigation(site, browser):
    page = _open(browser, site.dir / "usage.html", [], [])
    focused = []
    for _ in range(20):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused[0] == "Aller au contenu"
    assert {"Accueil", "Usages de l'IA", "Le regard du public", "English"} <= set(focused)
    page.reload()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.close()


# --- the Dagster asset -----------------------------------------------------------------------

def test_asset_builds_from_the_snapshot_and_a_failure_keeps_the_previous_site(site, tmp_path):
    settings = settings_in(tmp_path, published_dir=str(site.root / "published"))
    with DagsterInstance.ephemeral() as instance:
        first = refresh(["2024"], instance=instance, settings=settings, assets=[SITE_KEY])
        assert first.success, first.failures
        link = settings.paths.site
        assert link.is_symlink() and (link / "index.html").is_file()
        before = link.readlink()
        meta = instance.get_latest_materialization_event(SITE_KEY).asset_materialization.metadata
        shown = _rows(site.snapshot, "select count(distinct (survey, indicator_id)) as n "
                      "from marts.fct_indicator where not is_suppressed")[0]["n"]
        themes_n = len((settings.paths.root / "seeds" / "site_themes.csv").read_text(
            encoding="utf-8").splitlines()) - 1
        # every theme page and the home page, in French and in English (the snapshot holds
        # indicators the project's site seeds do not place: the "other" page is needed)
        assert (meta["pages"].value, meta["indicators"].value) == (2 * (themes_n + 1), shown)
        themes = settings.paths.root / "seeds" / "site_themes.csv"
        themes.write_text(themes.read_text(encoding="utf-8").replace(",12,", ",twelve,"),
                          encoding="utf-8")
        failed = refresh(["2024"], instance=instance, settings=settings, assets=[SITE_KEY])
    assert not failed.success
    assert link.readlink() == before and (link / "index.html").is_file()
    assert not [p for p in link.parent.iterdir() if p.name.startswith(".site-")
                and p.resolve() != link.resolve()]
