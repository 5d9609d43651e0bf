"""Screenshots of the dashboard for docs/ (headless Chromium; nothing is left running).

    python scripts/dashboard_screenshots.py [--out docs/img]

Uses a temporary workspace and labels file, Fashion-MNIST with stand-in (PCA) predictions for
the map, and the bundled MNIST without any predictions for the first-run page.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from dashboard.app import create_app  # noqa: E402
from ssvae.data import load_dataset  # noqa: E402
from stand_in_predictions import stand_in  # noqa: E402


class Server:
    def __init__(self, app, port):
        self.srv = make_server("127.0.0.1", port, app.server, threaded=True)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.thread.join(5)


def browser(width=1500, height=1000):
    opts = webdriver.ChromeOptions()
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update",
              f"--window-size={width},{height}", "--hide-scrollbars"):
        opts.add_argument(a)
    binary = shutil.which("chromium")
    if binary:
        opts.binary_location = binary
    return webdriver.Chrome(options=opts)


def settle(driver, seconds=1.5):
    time.sleep(seconds)


def keys(driver, *ks, pause=0.5):
    for k in ks:
        ActionChains(driver).send_keys(k).perform()
        time.sleep(pause)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "img"))
    ap.add_argument("--port", type=int, default=8071)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fashion = load_dataset("fashion-mnist")
        ws = tmp / "fashion"
        stand_in(fashion).save(ws / "predictions.npz")
        app = create_app(fashion, tmp / "fashion-labels.csv", ws)
        driver = browser()
        try:
            with Server(app, args.port):
                driver.get(f"http://127.0.0.1:{args.port}/")
                settle(driver, 4)
                keys(driver, "0", "6", "2", "4", "6", "0", "3", "2", "6", "4", "4", "2")
                driver.find_element("css selector", "#color-by .form-check:nth-child(2) label").click()
                settle(driver, 3)
                driver.save_screenshot(str(out / "dashboard.png"))
                driver.find_element("css selector", "#color-by .form-check:nth-child(3) label").click()
                settle(driver, 3)
                driver.save_screenshot(str(out / "dashboard-uncertainty.png"))
                driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
                settle(driver, 1)
                driver.save_screenshot(str(out / "dashboard-stats.png"))
                driver.execute_script("window.scrollTo(0, 0)")
                driver.execute_script("document.getElementById('theme-btn').click()")
                settle(driver, 1)
                driver.save_screenshot(str(out / "dashboard-dark.png"))
                driver.execute_script("document.getElementById('theme-btn').click()")
                print(f"fashion-mnist: {len(app.ssvae.state.labels)} labels")
            mnist = load_dataset("mnist")
            app2 = create_app(mnist, tmp / "mnist-labels.csv", tmp / "mnist")
            with Server(app2, args.port + 1):
                driver.get(f"http://127.0.0.1:{args.port + 1}/")
                settle(driver, 3)
                keys(driver, "5", "0", "4", "1")
                settle(driver, 1.5)
                driver.save_screenshot(str(out / "dashboard-no-model.png"))
                print(f"mnist: {len(app2.ssvae.state.labels)} labels")
        finally:
            driver.quit()
    from PIL import Image

    for name in ("dashboard.png", "dashboard-uncertainty.png", "dashboard-stats.png", "dashboard-dark.png",
                 "dashboard-no-model.png"):
        path = out / name
        # 256-colour palette PNGs: a third of the size, no visible difference for a UI shot
        Image.open(path).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
