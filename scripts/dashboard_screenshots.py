"""Screenshots of the dashboard for docs/ (headless Chromium; nothing is left running).

    python scripts/dashboard_screenshots.py [--out docs/img]

Runs the real app with its training worker on the bundled MNIST in a temporary workspace: the
first-run page while the first model trains, then 40 and 60 labels answered from the ground
truth, each followed by a retrain, then the map, the uncertainty colouring, the statistics
and training panel, and the dark theme. Takes a few minutes on two cores.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from dashboard.app import create_app  # noqa: E402
from dashboard.worker.service import TrainingService  # noqa: E402
from chromium import browser  # noqa: E402
from ssvae.config import load_config  # noqa: E402
from ssvae.workspace import dataset_from_config  # noqa: E402


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


def click(driver, css: str) -> None:
    el = driver.find_element("css selector", css)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    time.sleep(0.3)
    el.click()


def settle(driver, seconds=1.5):
    time.sleep(seconds)


def keys(driver, *ks, pause=0.5):
    for k in ks:
        ActionChains(driver).send_keys(k).perform()
        time.sleep(pause)


def tab_selection(state) -> int | None:
    """The image the browser tab shows: its own session's selection (each tab has one)."""
    tabs = [sess for sid, sess in state.sessions.items() if sid is not None]
    return (tabs[-1] if tabs else state.current).selected


def shown(driver, app) -> int | None:
    """The image the tab shows once the page has drawn the server's selection for it (read
    under the dispatcher's lock, so a half-applied label never passes), else None."""
    with app.ssvae.lock:
        serial = tab_selection(app.ssvae.state)
    title = driver.find_element("css selector", "#sel-title").text
    return serial if serial is not None and title == f"Serial {serial}" else None


def label_from_truth(driver, app, n: int) -> None:
    """Label ``n`` images the way a user would, answering with the ground truth: press the
    class key of the image the tab shows, then wait for the label and for the page to show
    the next image (a key pressed before that labels the image still shown, wrongly)."""
    state = app.ssvae.state
    for _ in range(n):
        end = time.time() + 10
        while (serial := shown(driver, app)) is None and time.time() < end:
            time.sleep(0.05)
        if serial is None:
            raise TimeoutError("the page did not show the selected image")
        before = len(state.labels)
        ActionChains(driver).send_keys(str(int(state.dataset.truth[serial]))).perform()
        while (len(state.labels) == before or shown(driver, app) in (serial, None)) and time.time() < end:
            time.sleep(0.05)


def wrong_labels(app) -> int:
    """Labels that differ from the ground truth (none, when every key reached its image)."""
    state = app.ssvae.state
    return sum(1 for s, c in state.labels.as_dict().items() if c != int(state.dataset.truth[s]))


def wait_idle(driver, timeout=600) -> None:
    end = time.time() + timeout
    time.sleep(2)
    while time.time() < end:
        if driver.find_element("css selector", "#train-badge").text == "idle":
            return
        time.sleep(1)
    raise TimeoutError("training did not finish")


def train(driver) -> None:
    click(driver, "#train-start")
    wait_idle(driver)
    settle(driver, 2.5)  # the panel's poll loads the new predictions


def main(argv=None) -> int:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "img"))
    ap.add_argument("--port", type=int, default=8071)
    ap.add_argument("--first-epochs", type=int, default=20, help="epochs of the first model")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = load_config("default", {"train.epochs": args.first_epochs})
        mnist = dataset_from_config(cfg)
        worker = TrainingService(tmp / "ws", cfg.model_dump(mode="json"))
        app = create_app(mnist, tmp / "labels.csv", tmp / "ws", queue_size=cfg.query.k,
                         strategy=cfg.query.strategy, worker=worker)
        driver = browser()
        try:
            with Server(app, args.port):
                driver.get(f"http://127.0.0.1:{args.port}/")
                settle(driver, 8)  # the first model is training; label meanwhile
                label_from_truth(driver, app, 4)
                settle(driver, 1.5)
                driver.save_screenshot(str(out / "dashboard-no-model.png"))
                wait_idle(driver)
                settle(driver, 2.5)
                for n in (40, 60):
                    label_from_truth(driver, app, n)
                    train(driver)
                card = driver.find_element("css selector", "#training-panel").find_element("xpath", "..")
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
                settle(driver, 1)
                card.screenshot(str(out / "dashboard-training.png"))
                driver.execute_script("window.scrollTo(0, 0)")
                settle(driver, 1)
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
                runs = worker.channel.runs()
                print(f"mnist: {len(app.ssvae.state.labels)} labels ({wrong_labels(app)} wrong), runs: " + ", ".join(
                    f"{r['labels']} labels {100 * r['test_accuracy']:.1f}%" for r in runs))
        finally:
            driver.quit()
            worker.shutdown()
    from PIL import Image

    for name in ("dashboard.png", "dashboard-uncertainty.png", "dashboard-stats.png", "dashboard-dark.png",
                 "dashboard-no-model.png", "dashboard-training.png"):
        path = out / name
        # 256-colour palette PNGs: a third of the size, no visible difference for a UI shot
        Image.open(path).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
