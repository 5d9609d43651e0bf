"""Debian's Chromium, headless, through selenium (for the scripts that draw docs/img)."""
from __future__ import annotations

import shutil

from selenium import webdriver


def browser(width: int = 1500, height: int = 1000) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update",
              f"--window-size={width},{height}", "--hide-scrollbars"):
        opts.add_argument(a)
    binary = shutil.which("chromium")
    if binary:
        opts.binary_location = binary
    return webdriver.Chrome(options=opts)
