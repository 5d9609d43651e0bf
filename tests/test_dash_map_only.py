"""Before the classifier has labels: a map-only snapshot (the images' map, no model) and a model
trained with 0 labels. The page shows the map and says the classifier has no labels yet; it
shows no class prediction, probability or test accuracy as if it meant something."""
from __future__ import annotations

import json

import numpy as np

import dash_fixtures
from dash_fixtures import map_only_predictions, synthetic_predictions
from dashboard.callbacks.training import history_table, progress_view
from dashboard.figures import accuracy_figure, curves_figure
from ssvae.predictions import STAGE_IMAGES, Predictions


def open_page(tmp_path, ds, preds):
    app, page, load = dash_fixtures.open_page(tmp_path, ds, preds, selected_model=True)
    return app, page, {c.output.split(".")[2]: c for c in load.calls}


def render(calls, name):
    return next(c for key, c in calls.items() if key == name)


def test_map_only_snapshot_round_trips_and_fits(tmp_path, ds):
    p = map_only_predictions(ds)
    p.save(tmp_path / "p.npz")
    q = Predictions.load(tmp_path / "p.npz")
    assert q.meta["stage"] == STAGE_IMAGES and q.meta["num_labels"] == 0
    assert q.probs.shape == (ds.size, 0) and q.scores == {} and q.recon.size == 0
    assert not q.has_model and not q.classifier_trained and not q.has_recon
    assert q.fits(ds.size, ds.num_classes) and not q.fits(ds.size + 1, ds.num_classes)
    np.testing.assert_array_equal(q.map2d, p.map2d)
    # a model's snapshot: trained with labels or not
    assert synthetic_predictions(ds).classifier_trained
    untrained = synthetic_predictions(ds, num_labels=0)
    assert untrained.has_model and untrained.has_recon and not untrained.classifier_trained


def test_map_only_snapshot_shows_the_map_and_no_prediction(tmp_path, ds):
    app, page, calls = open_page(tmp_path, ds, map_only_predictions(ds))
    m = render(calls, "map")
    assert m.value("map-placeholder", "className") == "map-placeholder d-none"
    assert m.value("map-wrap", "className") == "map-wrap"
    fig = m.value("map", "figure")
    assert fig["data"][0]["type"] == "scattergl" and len(fig["data"]) == 3
    assert "no model yet" in m.value("map-caption", "children")
    notice = json.dumps(m.value("map-notice", "children"))
    assert "classifier has no labels yet" in notice and "Lasso" in notice
    assert m.value("map-notice", "className") == "map-notice"
    options = {o["value"]: o["disabled"] for o in m.value("color-by", "options")}
    assert options == {"label": False, "predicted": True, "uncertainty": True, "truth": False}
    sel = render(calls, "sel-image")
    assert sel.value("sel-pred", "children") == "no model yet"
    assert "empty-image" in sel.value("sel-recon", "className")
    assert sel.value("sel-probs", "figure")["data"] == []
    q = render(calls, "queue")
    # typical images of the map's clusters come first: the strategies that need no classifier
    assert "typical images" in q.value("queue-caption", "children")
    assert q.value("strategy", "disabled") is False and q.value("diverse", "disabled") is True
    enabled = {o["value"] for o in q.value("strategy", "options") if not o["disabled"]}
    assert enabled == {"auto", "typiclust", "random"}
    queue = app.ssvae.state.queue()
    assert len(set(queue.tolist())) == len(queue) > 0
    # hover: the Serial and its label, no prediction
    dep = page.find("hover-point.data", "map-tooltip")
    hover = {"serial": 5, "bbox": {"x0": 1, "x1": 2, "y0": 1, "y1": 2}}
    text = json.dumps(page.post(dep, "hover-point.data", {"hover-point.data": hover}).value("map-tooltip", "children"))
    assert "Serial 5" in text and "predicted" not in text
    # colouring by the classifier is refused in one sentence; by the ground truth it works
    res = page.trigger("color-by.value", "predicted").result
    assert not res["ok"] and "needs a classifier trained with labels" in res["message"]
    assert page.trigger("color-by.value", "truth").result["ok"]


def test_map_only_snapshot_lets_the_user_lasso_label(tmp_path, ds):
    app, page, _ = open_page(tmp_path, ds, map_only_predictions(ds))
    points = [{"curveNumber": 0, "pointIndex": i} for i in (3, 4, 9)]
    assert page.trigger("map.selectedData", {"points": points}).result["ok"]
    assert app.ssvae.state.sessions[page.stores["session-id"]].batch == (3, 4, 9)  # this tab's
    trigger = '{"index":2,"type":"batch-label"}.n_clicks'
    dep = page.find('{"index":["ALL"],"type":"batch-label"}.n_clicks')
    assert page.post(dep, trigger, {trigger: 1}).value("result", "data")["ok"]
    assert app.ssvae.state.labels.as_dict() == {3: 2, 4: 2, 9: 2}


def test_first_model_after_the_map_only_snapshot(tmp_path, ds):
    app, page, _ = open_page(tmp_path, ds, map_only_predictions(ds))
    import os
    import time

    ws = app.ssvae.state.workspace
    synthetic_predictions(ds).save(ws.predictions)
    os.utime(ws.predictions, (time.time() + 5, time.time() + 5))
    tick = page.tick()
    assert "first trained model" in tick.result["message"]
    m = next(c for c in tick.calls if "map.figure" in c.output)
    assert m.value("map-notice", "className") == "d-none"
    assert "model after epoch 3" in m.value("map-caption", "children")


def test_model_trained_without_labels_shows_map_and_recon_not_predictions(tmp_path, ds):
    app, page, calls = open_page(tmp_path, ds, synthetic_predictions(ds, num_labels=0))
    m = render(calls, "map")
    assert "model after epoch 3" in m.value("map-caption", "children")
    assert "classifier has no labels yet" in json.dumps(m.value("map-notice", "children"))
    sel = render(calls, "sel-image")
    assert "no labels yet" in sel.value("sel-pred", "children")
    assert "model:" not in sel.value("sel-pred", "children")
    assert sel.value("sel-recon", "className") == "pixel-image"  # the reconstruction is shown
    assert sel.value("sel-probs", "figure")["data"] == []


def test_training_panel_hides_the_untrained_classifier():
    runs = [{"run_id": "a", "status": "done", "labels": 0, "epochs": 5, "test_accuracy": 0.058,
             "finished_at": 1.0},
            {"run_id": "b", "status": "done", "labels": 40, "epochs": 5, "test_accuracy": 0.71,
             "finished_at": 2.0}]
    assert accuracy_figure(runs)["data"][0]["x"] == [40]
    assert accuracy_figure(runs[:1])["data"] == []
    table = json.dumps(history_table(runs).to_plotly_json(), default=lambda o: o.to_plotly_json())
    assert "5.8%" not in table and "71.0%" in table
    events = [{"event": "epoch", "epoch": 1, "loss": 1.0, "classification": 2.3,
               "test_classification": 2.4, "test_accuracy": 0.06}]
    status = {"status": "training", "epochs": 5, "progress": 1, "labels": 0, "eta_s": 3}
    assert "accuracy" not in progress_view(status, events)[2]
    assert "test accuracy 6.0%" in progress_view({**status, "labels": 10}, events)[2]
    fig = curves_figure(events, labeled=False, epochs=5)
    assert fig["data"][6]["x"] == [] and fig["data"][7]["x"] == []  # the classification panel
    assert fig["data"][0]["x"] == [1]
    assert any("not trained" in a["text"] for a in fig["layout"]["annotations"])


def test_queue_says_why_these_images_come_first(tmp_path, ds):
    app, page, calls = open_page(tmp_path, ds, None)
    assert "no model yet" in render(calls, "queue").value("queue-reason", "children")
    # the default (auto) ranks typical images of unlabeled groups while labels are few, with a
    # model or before it (the map of the images), trained classifier or not
    for sub, preds in (("a", map_only_predictions(ds)), ("b", synthetic_predictions(ds, num_labels=0)),
                       ("c", synthetic_predictions(ds))):
        app, page, calls = open_page(tmp_path / sub, ds, preds)
        assert app.ssvae.state.effective_strategy() == "auto"
        assert render(calls, "queue").value("queue-reason", "children").startswith(
            "Typical images of groups without a label")
    app, page, calls = open_page(tmp_path / "d", ds, synthetic_predictions(ds, num_labels=0))
    reasons = {}
    for strategy, diverse in (("entropy", False), ("margin", True)):
        dep = page.find("strategy.value")
        result = page.post(dep, "strategy.value", {"strategy.value": strategy,
                                                   "diverse.value": diverse}).value("result", "data")
        assert result["ok"], result
        page.stores["versions"] = result["versions"]
        q = next(c for c in page.render() if "queue.children" in c.output)
        reasons[strategy] = q.value("queue-reason", "children")
    assert "classifier with no labels yet" in reasons["entropy"]  # no labels: says it means little
    app, page, calls = open_page(tmp_path / "e", ds, synthetic_predictions(ds))
    dep = page.find("strategy.value")
    result = page.post(dep, "strategy.value", {"strategy.value": "margin", "diverse.value": True}).value("result", "data")
    assert result["ok"], result
    page.stores["versions"] = result["versions"]
    reason = next(c for c in page.render() if "queue.children" in c.output).value("queue-reason", "children")
    assert "two likeliest classes are closest" in reason and "diverse" in reason


def test_queue_says_when_auto_does_not_trust_the_model_yet(tmp_path, ds):
    """Past 3 labels per class, auto stays typical while the model got most new labels wrong
    (meta["trust"]), and the heading says so; a trusted model's queue ranks by margin."""
    labeled = range(3 * ds.num_classes)
    for sub, trusted in (("no", False), ("yes", True)):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "labels.csv").write_text(
            "Serial,label\n" + "".join(f"{s},{ds.class_names[ds.truth[s]]}\n" for s in labeled))
        preds = synthetic_predictions(ds)
        preds.meta.update(trust={"trusted": trusted, "right": 0, "checked": 0},
                          new_labels={"right": 4, "checked": 30})
        app, page, calls = open_page(tmp_path / sub, ds, preds)
        reason = render(calls, "queue").value("queue-reason", "children")
        heading = render(calls, "queue").value("queue-caption", "children")
        if trusted:
            assert reason.startswith("Images the model is least sure of")
            assert heading.startswith("most uncertain first")
        else:
            assert reason.startswith("Typical images of groups without a label")
            assert heading.startswith("typical images first")
            assert "4 of the last 30 new labels" in reason


def test_a_classifier_colouring_falls_back_to_labels_without_a_trained_classifier(tmp_path, ds):
    app, page, _ = open_page(tmp_path, ds, synthetic_predictions(ds))
    assert page.trigger("color-by.value", "uncertainty").result["ok"]
    ws = app.ssvae.state.workspace
    import os
    import time

    synthetic_predictions(ds, num_labels=0).save(ws.predictions)  # e.g. labels removed, retrained
    os.utime(ws.predictions, (time.time() + 5, time.time() + 5))
    tick = page.tick()
    m = next(c for c in tick.calls if "map.figure" in c.output)
    assert m.value("color-by", "value") == "label"
    assert m.value("map", "figure")["data"][0]["marker"]["color"] == "#c3c8d0"  # grey: labels mode


def test_the_runs_table_flags_a_collapsed_model():
    warning = "the model has collapsed: it predicts 'a' for every labeled image."
    runs = [{"run_id": "a", "status": "finished", "labels": 40, "epochs": 5, "finished_at": 1.0,
             "test_accuracy": 0.1, "warning": warning},
            {"run_id": "b", "status": "finished", "labels": 40, "epochs": 5, "finished_at": 2.0,
             "test_accuracy": 0.8}]
    rows = history_table(runs).to_plotly_json()["props"]["children"][1].to_plotly_json()["props"]["children"]
    statuses = [r.to_plotly_json()["props"]["children"][1].to_plotly_json()["props"]["children"]
                for r in rows]
    titles = [r.to_plotly_json()["props"]["title"] for r in rows]
    assert statuses == ["finished", "finished ⚠ collapsed"]  # newest first
    assert titles == ["b", warning]


def test_the_runs_table_shows_how_many_new_labels_the_previous_model_guessed():
    runs = [{"run_id": "a", "status": "finished", "labels": 10, "epochs": 5, "finished_at": 1.0},
            {"run_id": "b", "status": "finished", "labels": 40, "epochs": 5, "finished_at": 2.0,
             "new_labels": {"right": 21, "checked": 30}}]
    table = history_table(runs).to_plotly_json()["props"]["children"]
    heads = [th.to_plotly_json()["props"]["children"]
             for th in table[0].to_plotly_json()["props"]["children"].to_plotly_json()["props"]["children"]]
    column = heads.index("guessed")
    cells = [r.to_plotly_json()["props"]["children"][column].to_plotly_json()["props"]["children"]
             for r in table[1].to_plotly_json()["props"]["children"]]
    assert cells == ["21 / 30", "–"]  # newest first; the first run had no earlier model


def test_a_model_published_before_its_map_then_its_map(tmp_path, ds):
    """The worker writes a run's predictions with the map before them, then again with the
    model's map: the page says which, and moves the points only the second time."""
    import os
    import time
    from dataclasses import replace

    image_map = map_only_predictions(ds)
    app, page, calls = open_page(tmp_path, ds, image_map)
    ws = app.ssvae.state.workspace
    points = lambda fig: (fig["data"][0]["x"], fig["data"][0]["y"])  # typed arrays
    shown = points(render(calls, "map").value("map", "figure"))

    def publish(preds, ahead):
        preds.save(ws.predictions)
        os.utime(ws.predictions, (time.time() + ahead, time.time() + ahead))
        tick = page.tick()
        return tick, points(next(c for c in tick.calls if "map.figure" in c.output).value("map", "figure"))

    model = synthetic_predictions(ds, seed=2)  # its own map (the image map is seed 1's)
    model.meta.update(step=40, labels_fingerprint="abc")
    tick, first = publish(replace(model, map2d=image_map.map2d, meta={**model.meta, "map": "later"}), 5)
    assert tick.result["message"] == ("The queue now shows the first trained model; its map "
                                      "follows in a moment.")
    assert first == shown  # the points stay where they were
    tick, second = publish(replace(model, meta={**model.meta, "map": "umap"}), 10)
    assert tick.result["message"] == "The map now shows the latest model."
    assert second != first
    np.testing.assert_array_equal(app.ssvae.state.predictions.map2d, model.map2d)
