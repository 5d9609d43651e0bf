"""Shared pytest set-up. Browser tests (marker ``browser``) drive headless Chromium via dash_duo."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/dash_fixtures.py

CHROME_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update",
               "--window-size=1400,1000")
INSTALL_HINT = "apt-get install -y chromium chromium-driver"


def chrome_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def pytest_setup_options():
    """ChromeOptions for dash[testing]; `pytest --headless` adds --headless itself."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        options.add_argument("--headless")  # no screen: plain `pytest` works too
    binary = chrome_binary()
    if binary:
        options.binary_location = binary
    return options


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") is None:
        return
    missing = [what for what, ok in (("chromium", chrome_binary()), ("chromedriver", shutil.which("chromedriver")))
               if not ok]
    if missing:
        message = f"{' and '.join(missing)} not found; install with: {INSTALL_HINT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests must run in CI: {message}", pytrace=False)
        pytest.skip(message)

