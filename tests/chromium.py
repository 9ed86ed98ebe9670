"""Headless Chromium for the tests that render pages (screenshots, DOM), and no silent skip.

Every test that needs Chromium goes through `run_chromium`: without `/usr/bin/chromium` the
test is skipped on a developer machine, but *fails* when `CI=true` (`.ci/run` installs
Chromium and fails if it cannot), so a green CI always includes the rendering checks.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("OBSERVATOIRE_CHROMIUM", "/usr/bin/chromium"))


def in_ci() -> bool:
    """True when running in CI (`CI=true`, as CI services and `.ci/run` set it)."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def require_chromium() -> Path:
    """The Chromium binary; skips the test locally and fails it in CI when it is missing."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not installed (apt-get install -y chromium)"
        if in_ci():
            pytest.fail(f"CI=true and {message}: rendering checks cannot be skipped in CI")
        pytest.skip(message)
    return CHROMIUM


def run_chromium(tmp: Path, url: str, *mode: str) -> subprocess.CompletedProcess:
    """Headless Chromium on `url` with the network off (no name resolves, every proxied
    request hits a closed port): any asset still loaded from a CDN is missing."""
    args = [
        str(require_chromium()), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'chromium-profile'}",
        "--window-size=1280,900", "--virtual-time-budget=5000",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
        *mode, url,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
