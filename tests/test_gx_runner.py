"""observatoire.quality.gx_runner: GX 1.x suites on pandas and Data Docs that render offline.

The Chromium checks run with DNS and proxy pointed at nothing, so any asset still loaded
from a CDN would be missing from the screenshot / DOM (tests/chromium.py: skipped without
Chromium locally, failed in CI).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import great_expectations as gx
import pandas as pd
import pytest
from PIL import Image

from observatoire.quality import data_docs, gx_runner
from tests.chromium import run_chromium

SUITE = "survey.quality"
N_OUT_OF_RANGE = 2  # scores of 42 injected into a 0..10 scale


def _expectations() -> list:
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="respondent_id"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=10),
        gx.expectations.ExpectColumnValuesToBeUnique(column="respondent_id"),
    ]


def _wave(n: int, dirty: bool) -> pd.DataFrame:
    ids = list(range(1, n + 1))
    scores = [i % 11 for i in ids]
    if dirty:
        ids[-1] = ids[0]  # one duplicated id -> 2 rows not unique
        scores[3] = scores[7] = 42
    return pd.DataFrame({"respondent_id": ids, "score": scores})


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    context = gx_runner.get_context(root)
    exps = _expectations()  # the same objects for every wave
    wave1 = gx_runner.run_suite(context, SUITE, _wave(30, dirty=True), "2024", expectations=exps)
    # a fresh context on the same folder, as a second process would do
    context = gx_runner.get_context(root)
    wave2 = gx_runner.run_suite(context, SUITE, _wave(20, dirty=False), "2025",
                                expectations=exps)
    wave2_again = gx_runner.run_suite(context, SUITE, _wave(20, dirty=False), "2025")
    site = root / "site"
    index = data_docs.build_offline_docs(context, site)
    return {"root": root, "context": context, "site": site, "index": index,
            "wave1": wave1, "wave2": wave2, "wave2_again": wave2_again}


def test_results_one_dict_per_expectation(project):
    rows = project["wave1"]
    assert [r["expectation_type"] for r in rows] == [
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_unique",
    ]
    keys = {"suite", "expectation_type", "column", "kwargs_json", "meta", "success",
            "observed_value", "unexpected_count", "element_count"}
    for r in rows:
        assert set(r) == keys
        assert r["suite"] == SUITE and r["element_count"] == 30
        assert isinstance(r["success"], bool)
        assert json.loads(r["kwargs_json"])["column"] == r["column"]
    not_null, between, unique = rows
    assert not_null["success"] is True and not_null["unexpected_count"] == 0
    assert between["success"] is False and between["unexpected_count"] == N_OUT_OF_RANGE
    assert json.loads(between["kwargs_json"]) == {"column": "score", "min_value": 0,
                                                  "max_value": 10}
    assert unique["success"] is False and unique["unexpected_count"] == 2


def test_repeated_runs_same_suite(project):
    assert all(r["success"] for r in project["wave2"])
    assert [r["element_count"] for r in project["wave2"]] == [20, 20, 20]
    assert project["wave2_again"] == project["wave2"]
    context = project["context"]
    assert len(context.suites.get(SUITE).expectations) == 3  # updated, not duplicated
    names = {vd.name for vd in context.validation_definitions.all()}
    assert names == {f"{SUITE}__2024", f"{SUITE}__2025"}


def test_context_layout_and_offline_config(project):
    """The run's context lives in the data folder given; the configured suites are loaded."""
    gx_dir = project["root"] / "gx"
    config = (gx_dir / "great_expectations.yml").read_text()
    assert "analytics_enabled: false" in config
    assert f"plugins_directory: {gx_runner.PLUGINS_DIR}" in config
    stored = {suite.name for suite in project["context"].suites.all()}
    configured = {p.stem for p in gx_runner.SUITES_DIR.glob("*.json")}
    assert configured == {"raw_file", "responses", "respondents", "item_nonresponse", "weights",
                          "indicators", "reconciliation"}
    assert stored == configured | {SUITE}
    assert len(list((gx_dir / "validation_definitions").glob("*.json"))) == 2
    assert len(list((gx_dir / "uncommitted" / "validations").rglob("*.json"))) == 3


def test_configured_suites_hold_no_wave_specific_value():
    """Suites are shared by every wave: what depends on a wave is a `$PARAMETER`."""
    for suite in gx_runner.configured_suites():
        for expectation in suite.expectations:
            config = expectation.configuration
            for name in ("codebook", "segments", "margins", "published", "value", "column_set",
                         "threshold", "tolerance", "exceptions", "survey"):
                if name in config.kwargs:
                    assert set(config.kwargs[name]) == {"$PARAMETER"}, (suite.name, name)
            if config.type == "expect_column_sum_to_be_between":
                assert config.kwargs["min_value"] == {"$PARAMETER": "weight_sum_min"}


def test_docs_have_no_external_asset_loads(project):
    site, index = project["site"], project["index"]
    assert index == site / "index.html" and index.is_file()
    assert data_docs.find_external_urls(site) == []
    pages = list((site / "validations").rglob("*.html"))
    assert len(pages) == 3
    for page in [index, *pages]:
        html = page.read_text()
        assert "static/vendor/bootstrap/dist/css/bootstrap.min.css" in html
        assert "integrity=" not in html and "crossorigin=" not in html
    vendor = site / "static" / "vendor"
    assert (vendor / "vega-embed" / "build" / "vega-embed.min.js").is_file()
    assert list((vendor / "@fortawesome" / "fontawesome-free" / "webfonts").glob("*.woff2"))
    # navigation links may stay external; they are reported separately
    assert all(": http" in link for link in data_docs.find_external_links(site))


def test_find_external_urls_flags_loads_not_links(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "p.html").write_text(
        '<html><head><script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//cdn.example.org/y.css">'
        "<style>body{background:url('http://img.example.org/b.png')}</style></head>"
        '<body><a href="https://example.org/doc">doc</a><img src="local.png"></body></html>'
    )
    (tmp_path / "s.css").write_text("@import 'https://fonts.example.org/f.css';")
    (tmp_path / "j.js").write_text('var u = "https://cdn.example.org/z.js"; // https://a.b/c')
    assert data_docs.find_external_urls(tmp_path) == sorted([
        "a/p.html: https://cdn.example.org/x.js",
        "a/p.html: //cdn.example.org/y.css",
        "a/p.html: http://img.example.org/b.png",
        "s.css: https://fonts.example.org/f.css",
        "j.js: https://cdn.example.org/z.js",
    ])
    assert data_docs.find_external_links(tmp_path) == ["a/p.html: https://example.org/doc"]


# ---------------------------------------------------------------- headless Chromium
def _screenshot(tmp: Path, page: Path, name: str):
    png = tmp / f"{name}.png"
    proc = run_chromium(tmp, page.as_uri(), f"--screenshot={png}")
    assert png.is_file(), proc.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(png).convert("RGB")


def test_chromium_renders_offline_and_styled(project, tmp_path):
    site, index = project["site"], project["index"]
    page = next((site / "validations").rglob("*.html"))
    styled = _screenshot(tmp_path, page, "styled")
    colors = styled.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 100, "page looks blank"

    # Same page without the vendored assets = what a CDN-dependent site looks like offline.
    bare_site = tmp_path / "bare"
    shutil.copytree(site, bare_site)
    shutil.rmtree(bare_site / "static" / "vendor")
    bare = _screenshot(tmp_path, bare_site / page.relative_to(site), "bare")
    diff = sum(a != b for a, b in zip(styled.tobytes(), bare.tobytes(), strict=True))
    assert diff > 0.05 * len(styled.tobytes()), "vendored CSS/JS made no difference"

    dom = run_chromium(tmp_path, index.as_uri(), "--dump-dom").stdout
    assert "survey.quality" in dom
    # jQuery + bootstrap-table ran: they wrap the results table in div.bootstrap-table
    assert 'class="bootstrap-table' in dom and "fixed-table-container" in dom
