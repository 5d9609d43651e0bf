"""Browser tests skip without Chromium only outside CI; with CI=true they fail."""
from __future__ import annotations

import pytest

import conftest


class FakeItem:
    def get_closest_marker(self, name):
        return object() if name == "browser" else None


def test_missing_browser_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(conftest.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium chromium-driver"):
        conftest.pytest_runtest_setup(FakeItem())
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium chromium-driver"):
        conftest.pytest_runtest_setup(FakeItem())


def test_chrome_options_for_root(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    args = conftest.pytest_setup_options().arguments
    for flag in ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--headless"):
        assert flag in args
