"""The training panel in headless Chromium with a real worker on a tiny data set: the first
model trains by itself and the map appears, a retrain's progress bar and curves move while
labeling goes on, Stop ends it and the map refreshes."""
from __future__ import annotations

import re

import pytest

from dashboard.app import create_app
from dashboard.worker.service import TrainingService
from model_fixtures import tiny_npz
from ssvae.workspace import dataset_from_config
from dash_fixtures import tab_session, wait_until
from browser_helpers import click, js, press, rows

pytestmark = pytest.mark.browser


def curve_points(dash_duo) -> int:
    return js(dash_duo, "const gd=document.querySelector('#train-curves .js-plotly-plot');"
                        "return gd && gd.data && gd.data.length ? gd.data[0].x.length : -1;")


def progress(dash_duo) -> float:
    width = js(dash_duo, "const b=document.querySelector('.train-progress .progress-bar');"
                         "return b ? b.style.width : '';")
    return float(width.rstrip("%") or 0)


def model_epoch(dash_duo) -> int:
    m = re.search(r"model after epoch (\d+)", dash_duo.find_element("#map-caption").text)
    return int(m.group(1)) if m else -1


def test_train_watch_progress_label_meanwhile_stop_and_map_refreshes(dash_duo, tmp_path):
    cfg = tiny_npz(tmp_path / "tiny.npz")
    ds = dataset_from_config(cfg)
    worker = TrainingService(tmp_path / "ws", cfg.model_dump(mode="json"))
    app = create_app(ds, tmp_path / "labels.csv", tmp_path / "ws", worker=worker)
    try:
        dash_duo.start_server(app)
        # no predictions at start: the first model trains by itself, then the map appears
        dash_duo.wait_for_contains_text("#map-caption", "model after epoch", timeout=300)
        first_epoch = model_epoch(dash_duo)
        # the map was hidden until now: it must come up at its full size, not 0 px wide
        wait_until(lambda: js(dash_duo, "const gd=document.querySelector('#map .js-plotly-plot');"
                                        "const w=gd.getBoundingClientRect().width;"
                                        "return w > 300 && Math.abs(gd._fullLayout.width - w) < 2;"),
                   timeout=10, what="the map at its full width")
        dash_duo.wait_for_text_to_equal("#train-badge", "idle", timeout=20)
        assert "finished" in dash_duo.find_element("#train-history").text

        epochs = dash_duo.find_element("#train-epochs")
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", epochs)
        epochs.clear()
        epochs.send_keys("5000")
        click(dash_duo, "#train-start")
        dash_duo.wait_for_text_to_equal("#train-badge", "training", timeout=20)
        dash_duo.wait_for_contains_text("#train-status", "of 5000", timeout=30)
        wait_until(lambda: curve_points(dash_duo) > 0, timeout=30, what="the first curve points")
        p0, c0 = progress(dash_duo), curve_points(dash_duo)
        wait_until(lambda: curve_points(dash_duo) > c0 + 3 and progress(dash_duo) > p0,
                   timeout=30, what="the curves and the bar to move")
        dash_duo.driver.save_screenshot(str(tmp_path / "training.png"))

        # labeling goes on while the run trains
        js(dash_duo, "document.activeElement.blur();")  # keys go to the page, not the form
        shown = tab_session(app).selected
        press(dash_duo, "2")
        wait_until(lambda: f"{shown},c" in rows(app), what="a label during training")  # class 2 is 'c'

        click(dash_duo, "#train-stop")
        dash_duo.wait_for_text_to_equal("#train-badge", "idle", timeout=30)
        wait_until(lambda: model_epoch(dash_duo) > first_epoch, timeout=20, what="the map to refresh")
        assert "stopped" in dash_duo.find_element("#train-history").text
        assert app.ssvae.state.predictions.meta["epoch"] == model_epoch(dash_duo)
        assert not dash_duo.find_element("#train-start").get_attribute("disabled")
        dash_duo.driver.save_screenshot(str(tmp_path / "stopped.png"))
        errors = [e for e in dash_duo.get_logs() or [] if "favicon" not in e["message"]]
        assert errors == []
    finally:
        worker.shutdown(timeout=20)
