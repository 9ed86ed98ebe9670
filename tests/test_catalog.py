"""The data catalog (dbt docs) renders offline in headless Chromium: the fct_indicator page shows
its columns' descriptions and lineage, a screenshot is taken, and every request the page makes
is recorded: none leaves the file system.

Chromium is driven by Playwright (its Python client, on the system's /usr/bin/chromium; no
browser is downloaded). Requests to anything but file:, data: or blob: URLs are recorded, then
aborted, so a page that tried the network fails the test instead of hanging on it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from PIL import Image
from playwright.sync_api import sync_playwright

from observatoire.spec import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
LOCAL_SCHEMES = {"file", "data", "blob", "about"}


@pytest.fixture(scope="module")
def catalog(shipped_catalog) -> Path:
    return shipped_catalog / "index.html"


def test_catalog_files(catalog):
    folder = catalog.parent
    assert sorted(p.name for p in folder.iterdir()) == ["catalog.json", "index.html",
                                                        "manifest.json"]
    html = catalog.read_text(encoding="utf-8")
    assert "model.observatoire.fct_indicator" in html  # manifest and catalog are inside
    assert '"send_anonymous_usage_stats": false' in html  # dbt docs' tracker stays off


def test_catalog_renders_offline_in_headless_chromium(catalog, tmp_path):
    assert CHROMIUM.exists(), "headless Chromium is needed: apt-get install chromium"
    spec = yaml.safe_load((PROJECT_ROOT / "models/marts/_marts__models.yml").read_text("utf-8"))
    model = next(m for m in spec["models"] if m["name"] == "fct_indicator")
    ci_low = next(c["description"] for c in model["columns"] if c["name"] == "ci_low")
    requests: list[str] = []
    shot = tmp_path / "catalog.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.route(lambda url: urlparse(url).scheme not in LOCAL_SCHEMES,
                       lambda route: route.abort())
            page.goto(catalog.as_uri())  # the welcome page is the project's overview block
            page.get_by_text("catalogue des données / data catalog").first.wait_for(
                timeout=60_000)
            page.goto(f"{catalog.as_uri()}#!/model/model.observatoire.fct_indicator")
            page.get_by_text(ci_low.strip()).first.wait_for(timeout=60_000)
            page.screenshot(path=str(shot), full_page=False)
            body = page.inner_text("body")
            page.get_by_text("Depends On").first.wait_for(timeout=10_000)
            lineage = page.inner_text("body")
        finally:
            browser.close()
    assert "fct_indicator" in body and model["description"].split(".")[0] in body
    assert "int_indicator_members" in lineage  # its parent model, from the lineage
    external = [u for u in requests if urlparse(u).scheme not in LOCAL_SCHEMES]
    assert requests and external == [], external
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 900)
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 100, "the page looks blank"
