"""Mixture-prior diagnostics in the page (over HTTP, no JAX): π per component, colour by
component on the map, the component × class table from the labeled images with empty and
shared components flagged; hidden, and refused, for a model with the normal prior."""
from __future__ import annotations

import numpy as np
import pytest

from dash_fixtures import open_page, synthetic_dataset, synthetic_predictions
from dashboard.headless import HeadlessPage
from dashboard.mixture import component_table, unclaimed_classes


@pytest.fixture
def ds(tmp_path):
    return synthetic_dataset(n=120, k=4, root=tmp_path / "data")


def mixture_predictions(ds, k=None):
    """Component c holds truth class c, except that class 3 is split over 2 and 3 and, with
    k=5, component 4 has no image at all."""
    p = synthetic_predictions(ds)
    k = k or ds.num_classes
    comp = ds.truth.copy()
    threes = np.flatnonzero(ds.truth == 3)
    comp[threes[: len(threes) // 2]] = 2
    p.component = comp.astype(np.int16)
    w = np.bincount(comp, minlength=k).astype(np.float32) + 0.5
    p.mixture_weights = w / w.sum()
    p.meta.update(prior="mixture", components=k, tied_mixture=k == ds.num_classes)
    return p


def call_of(action, output_id):
    return next(c for c in action.calls if f"{output_id}." in c.output)


def label(page, app, serial, key):
    page.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": int(serial)}]})
    action = page.trigger("key-event.data", {"key": str(key)})
    assert action.result["ok"]
    return action


def test_component_table_counts_and_flags():
    # 3 components, 3 classes; component 0: class 0 ×4; 1: class 1 ×3 and class 2 ×2 (shared);
    # 2: images but no labels; labels of class 0 also in component 1? no: class 1 is split
    component = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 1])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, -1, -1, -1])
    rows = component_table(component, np.array([0.3, 0.5, 0.2]), labels, 3, tied=True)
    assert [r.images for r in rows] == [4, 6, 2]
    assert rows[0].counts.tolist() == [4, 0, 0] and rows[0].stands_for == 0 and rows[0].flags == ()
    assert rows[1].counts.tolist() == [0, 3, 2] and rows[1].stands_for == 1
    assert rows[1].purity == pytest.approx(0.6) and "shared" in rows[1].flags
    assert rows[2].flags == ("no labels",) and rows[2].stands_for is None
    # an empty component, one class the majority of two components, a component of another class
    rows = component_table(np.array([0, 0, 1, 1]), np.array([0.5, 0.5, 0.0]), np.array([1, 1, 1, -1]), 3,
                           tied=True)
    assert rows[2].flags == ("empty",)
    assert "split" in rows[0].flags and "split" in rows[1].flags and "not its class" in rows[0].flags
    assert "not its class" not in rows[1].flags  # component 1 stands for class 1
    rows = component_table(np.array([0, 0, 1, 1]), np.array([0.5, 0.5]), np.array([0, 1, 0, 0]), 3, tied=False)
    assert [r.stands_for for r in rows] == [0, 0] and unclaimed_classes(rows, 3) == [1]
    # one stray label of another class does not make a component shared
    rows = component_table(np.zeros(6, int), np.array([1.0]), np.array([0, 0, 0, 0, 0, 1]), 2, tied=False)
    assert "shared" not in rows[0].flags and rows[0].stands_for == 0


def test_mixture_card_weights_table_and_colour_by_component(tmp_path, ds):
    preds = mixture_predictions(ds)
    app, page, load = open_page(tmp_path, ds, preds)
    mix = call_of(load, "mixture-weights")
    assert "d-none" not in mix.value("mixture-card", "class_name")
    bars = mix.value("mixture-weights", "figure")["data"][0]
    assert len(bars["x"]) == 4 and np.allclose(bars["y"], preds.mixture_weights, atol=1e-4)
    assert "4 components" in mix.value("mixture-summary", "children")
    m = call_of(load, "map")
    assert "component" in [o["value"] for o in m.value("color-by", "options")]

    # label three 2s and two 3s of component 2, and one 3 of component 3: component 2 is shared
    twos = np.flatnonzero(ds.truth == 2)[:3]
    threes = np.flatnonzero(ds.truth == 3)
    for s in twos:
        label(page, app, s, 2)
    label(page, app, threes[0], 3)
    label(page, app, threes[1], 3)  # the first half of the threes are in component 2
    last = label(page, app, threes[-1], 3)
    rows = component_table(preds.component, preds.mixture_weights, app.ssvae.state.labels.as_array(), 4, True)
    assert rows[2].counts.tolist() == [0, 0, 3, 2] and rows[2].flags == ("shared",)
    assert rows[3].counts.tolist() == [0, 0, 0, 1] and rows[3].flags == ()
    assert rows[0].flags == ("no labels",)
    # the page's table follows each label
    # the page's table follows each label: a Patch of the one row that moved; π stays
    mix = call_of(last, "mixture-table")
    patch = mix.value("mixture-table", "children")
    assert [op["location"] for op in patch["operations"]] == [["props", "children", 1, "props", "children", 3]]
    assert mix.value("mixture-weights", "figure") is None
    # a new tab gets the whole table
    table = str(call_of(HeadlessPage(app).load(), "mixture-table").value("mixture-table", "children"))
    assert "shared" in table and "no labels" in table and "2 (60%)" in table

    action = page.trigger("color-by.value", "component")
    assert action.result["ok"]
    m = call_of(action, "map")
    patch = m.value("map", "figure")  # a Patch of the all-images trace's marker
    marker = next(op["params"]["value"] for op in patch["operations"]
                  if op["location"] == ["data", 0, "marker"])
    assert marker["cmax"] == pytest.approx(3.5) and marker["color"]["dtype"] == "u1"
    assert "mixture component" in str(m.value("map-legend", "children"))
    assert app.ssvae.state.color_mode() == "component"


def test_normal_prior_hides_the_card_and_refuses_colour_by_component(tmp_path, ds):
    app, page, load = open_page(tmp_path, ds, synthetic_predictions(ds))
    mix = call_of(load, "mixture-weights")
    assert "d-none" in mix.value("mixture-card", "class_name")
    assert mix.value("mixture-notice", "children") == "not a mixture model"
    m = call_of(load, "map")
    assert "component" not in [o["value"] for o in m.value("color-by", "options")]
    result = page.trigger("color-by.value", "component").result
    assert not result["ok"] and "mixture prior" in result["message"]
    assert app.ssvae.state.color_mode() == "label"
