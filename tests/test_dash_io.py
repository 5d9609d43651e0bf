"""The page's predictions download and class keys beyond ten, over HTTP (no browser)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from dash_fixtures import map_only_predictions, open_page, synthetic_dataset, synthetic_predictions
from dashboard.callbacks.labeling import command_for_key
from dashboard.commands import Label
from dashboard.keys import RESERVED, class_keys, key_classes, keys_summary
from dashboard.layout import label_buttons

TWELVE = tuple(f"c{i}" for i in range(12))


def make_page(tmp_path, k=10, preds="model", names=None):
    ds = synthetic_dataset(n=120, k=k, class_names=names, root=tmp_path / "data")
    make = {"model": synthetic_predictions, "map": map_only_predictions}.get(preds)
    app, page, _ = open_page(tmp_path, ds, make(ds) if make else None)
    return app, page


def download_predictions(page):
    dep = page.find("export-predictions-btn.n_clicks")
    call = page.post(dep, "export-predictions-btn.n_clicks", {"export-predictions-btn.n_clicks": 1})
    assert call.status == 200
    return call.value("download-predictions", "data"), call.value("result", "data")


def test_predictions_download_matches_the_snapshot(tmp_path):
    app, page = make_page(tmp_path)
    page.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": 4}]})
    assert page.trigger("key-event.data", {"key": "6"}).result["ok"]
    download, result = download_predictions(page)
    assert result["ok"] and "120 images" in result["message"]
    assert download["filename"] == "predictions.csv"
    frame = pd.read_csv(io.StringIO(download["content"]), dtype={"label": "string"})
    preds = app.ssvae.state.predictions
    assert list(frame["Serial"]) == list(range(120))
    assert np.array_equal(frame[[f"prob_{i}" for i in range(10)]].to_numpy(np.float32), preds.probs)
    assert np.array_equal(frame["margin"].to_numpy(np.float32), preds.scores["margin"])
    assert np.array_equal(frame[["x", "y"]].to_numpy(np.float32), preds.map2d)
    assert list(frame["predicted"]) == [int(k) for k in preds.pred]
    assert frame["label"].iloc[4] == "6" and frame["label"].isna().sum() == 119


def test_predictions_download_is_disabled_until_a_model(tmp_path):
    app, page = make_page(tmp_path, preds="map")
    calls = [c for c in page.load().calls if "export-predictions-btn.disabled" in c.output]
    assert calls and calls[0].value("export-predictions-btn", "disabled") is True
    download, result = download_predictions(page)  # a forged click says why, writes nothing
    assert download is None and not result["ok"]
    assert "not been trained" in result["message"]
    app2, page2 = make_page(tmp_path / "b")
    calls = [c for c in page2.load().calls if "export-predictions-btn.disabled" in c.output]
    assert calls[0].value("export-predictions-btn", "disabled") is False


def test_class_keys_follow_the_digits_with_letters_and_leave_s_free():
    keys = class_keys(40)
    assert keys[:10] == list("0123456789") and keys[10:12] == ["a", "b"]
    assert "s" not in keys and "S" not in keys and keys[10 + 18] == "t"  # r, then t
    assert len(set(keys)) == 40 and keys[35] == "A"
    assert class_keys(61)[-1] is None and len(key_classes(61)) == 60
    assert keys_summary(3) == "0–2" and keys_summary(12) == "0–9, a–b"
    assert keys_summary(29) == "0–9, a–t"
    assert not RESERVED & set(key_classes(60))


def test_command_for_key_maps_letters_and_refuses_other_keys():
    assert command_for_key("a", 5, 12) == Label(5, 10)
    assert command_for_key("b", 5, 12) == Label(5, 11)
    assert command_for_key("9", 5, 12) == Label(5, 9)
    for bad in ("c", "s", "²", "٣", "A", "x" * 10_000):
        msg = command_for_key(bad, 5, 12)
        assert isinstance(msg, str) and "does nothing" in msg and len(msg) < 200
    assert "0–9, a–b" in command_for_key("c", 5, 12)
    assert isinstance(command_for_key("7", 5, 3), str)  # 3 classes: 7 labels nothing


def test_twelve_classes_label_by_letter_over_http(tmp_path):
    app, page = make_page(tmp_path, k=12, names=TWELVE)
    page.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": 3}]})
    action = page.trigger("key-event.data", {"key": "b"})
    assert action.result["ok"], action.result
    assert app.ssvae.state.labels.get(3) == 11
    assert "3,c11" in app.ssvae.state.labels.path.read_text()
    refused = page.trigger("key-event.data", {"key": "²"})  # a digit to Python, no class key
    assert not refused.result["ok"] and "does nothing" in refused.result["message"]


def test_buttons_show_their_keys(tmp_path):
    app, _ = make_page(tmp_path, k=12, names=TWELVE)
    div = label_buttons(app.ssvae.state)
    assert div.id == "label-buttons" and getattr(div, "data-keys") == "0123456789ab"
    kbds = [b.children[1].children if b.children[1] is not None else None for b in div.children]
    assert kbds == list("0123456789ab")
    assert "(key b)" in div.children[11].title


def test_digit_classes_show_no_redundant_key(tmp_path):
    app, _ = make_page(tmp_path)
    div = label_buttons(app.ssvae.state)
    assert all(b.children[1] is None for b in div.children)


@pytest.mark.parametrize("k", [36, 62])
def test_shift_letters_after_the_lowercase_ones(tmp_path, k):
    names = tuple(f"n{i}" for i in range(k))
    app, _ = make_page(tmp_path, k=k, names=names, preds=None)
    div = label_buttons(app.ssvae.state)
    assert div.children[35].children[1].children == "⇧A"
    assert "(key Shift+A)" in div.children[35].title
    if k > 60:
        assert div.children[60].children[1] is None and "key" not in div.children[60].title
