"""Shared pytest set-up. Browser tests (marker ``browser``) drive headless Chromium via dash_duo."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
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


JAX_CACHE = pytest.StashKey[str]()


def pytest_configure(config):
    """One JAX compilation cache for the whole run, shared by the tests and the workers they
    spawn (they inherit the environment): most tests train the same tiny model, and each fresh
    process would otherwise compile its steps again (about 15 s each on a 2-core machine).
    The cache starts empty, so every run still compiles everything it uses once. XLA compiles
    without its backend optimisations (``XLA_FLAGS``, inherited too): the same computations,
    compiled in half the time, which is most of what a test's tiny model costs."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_backend_optimization_level=0".strip()
    if "SSVAE_JAX_CACHE" not in os.environ:
        folder = tempfile.mkdtemp(prefix="ssvae-test-jax-cache-")
        os.environ["SSVAE_JAX_CACHE"] = folder
        config.stash[JAX_CACHE] = folder


def pytest_unconfigure(config):
    folder = config.stash.get(JAX_CACHE, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("SSVAE_JAX_CACHE", None)


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


# -- the dashboard tests' shared set-up (tests/dash_fixtures.py); a module overrides a fixture
# by defining its own of the same name (e.g. a larger ``ds``)
@pytest.fixture
def ds(tmp_path):
    """A synthetic data set of 120 images in 10 classes (labels under ``tmp_path/data``)."""
    from dash_fixtures import synthetic_dataset

    return synthetic_dataset(n=120, root=tmp_path / "data")


@pytest.fixture
def ws(tmp_path, ds):
    """The page's workspace folder ``tmp_path/ws`` with a trained model's predictions."""
    from dash_fixtures import page_workspace, synthetic_predictions

    return page_workspace(tmp_path, synthetic_predictions(ds))


@pytest.fixture
def page(app):
    """A tab that has loaded the module's ``app``."""
    from dash_fixtures import tab

    return tab(app)


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

