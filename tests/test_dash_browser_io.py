"""In headless Chromium: letter keys on 12- and 36-class data sets, and the predictions.csv download."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from selenium.webdriver.common.keys import Keys

from dash_fixtures import synthetic_dataset, synthetic_predictions, tab_session, wait_until
from dashboard.app import create_app
from dashboard.state import Workspace
from browser_helpers import press, rows, wait_for_map, wait_for_message

pytestmark = pytest.mark.browser
N = 200
TWELVE = tuple(f"c{i}" for i in range(12))


def make_app(tmp_path: Path, names=TWELVE):
    ds = synthetic_dataset(n=N, k=len(names), class_names=names, root=tmp_path / "data")
    ws = tmp_path / "ws"
    ws.mkdir()
    synthetic_predictions(ds).save(Workspace(ws).predictions)  # the selected model's
    return create_app(ds, tmp_path / "labels.csv", ws)


def test_twelve_classes_have_keys_on_their_buttons_and_letters_label(dash_duo, tmp_path):
    app = make_app(tmp_path)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    keys = [b.text.split()[-1] for b in
            dash_duo.driver.find_elements("css selector", ".label-buttons .label-btn kbd")]
    assert keys == list("0123456789ab")
    assert "0–9, a–b" in dash_duo.find_element(".keys-hint").text
    first = tab_session(app).selected
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {first}", timeout=10)
    press(dash_duo, "b")
    wait_until(lambda: f"{first},c11" in rows(app), what="the label from key b")
    wait_for_message(dash_duo, f"Labeled Serial {first} as c11")
    second = wait_until(lambda: tab_session(app).selected if tab_session(app).selected != first else None,
                        what="auto-advance")
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {second}", timeout=10)
    press(dash_duo, "z")  # a letter no class has: not sent, nothing labeled
    press(dash_duo, "a")
    wait_until(lambda: f"{second},c10" in rows(app), what="the label from key a")
    assert rows(app) == sorted([f"{first},c11", f"{second},c10"], key=lambda r: int(r.split(",")[0]))


def test_shift_letters_label_the_classes_after_the_lowercase_ones(dash_duo, tmp_path):
    names = tuple(f"n{i}" for i in range(36))
    app = make_app(tmp_path, names)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    assert dash_duo.find_element(".label-buttons .label-btn:last-child kbd").text == "⇧A"
    first = tab_session(app).selected
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {first}", timeout=10)
    press(dash_duo, "a", Keys.SHIFT)
    wait_until(lambda: f"{first},n35" in rows(app), what="the label from Shift+A")
    assert len(rows(app)) == 1


def test_predictions_download_next_to_labels(dash_duo, tmp_path):
    app = make_app(tmp_path)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    button = dash_duo.find_element("#export-predictions-btn")
    wait_until(button.is_enabled, what="the predictions download to be enabled")
    button.click()
    wait_for_message(dash_duo, "Downloaded predictions.csv")
    target = Path(dash_duo.download_path) / "predictions.csv"
    wait_until(lambda: target.exists() and target.stat().st_size > 0, timeout=15, what="the download")
    (frame,) = wait_until(lambda: _read(target), what="a whole predictions.csv")
    preds = app.ssvae.state.predictions
    assert len(frame) == N and list(frame["Serial"]) == list(range(N))
    assert np.array_equal(frame[[f"prob_{c}" for c in TWELVE]].to_numpy(np.float32), preds.probs)
    assert list(frame["predicted"]) == [TWELVE[k] for k in preds.pred]


def _read(path: Path):
    """(the frame,) once the file holds every row, else None."""
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None
    return (frame,) if len(frame) == N else None
