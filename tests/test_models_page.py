"""Several models in the page (issue 13): create, switch, rename and delete through the
dispatcher's commands over HTTP; the map and queue follow the selected model at once; the
compare chart and table show every model; refusals are one sentence; the labels are shared.
The last test runs the real training worker on a tiny data set."""
from __future__ import annotations

import numpy as np
import pytest

from dash_fixtures import page_workspace, synthetic_dataset, synthetic_predictions, tab, wait_until
from dashboard.app import create_app
from dashboard.commands import CreateModel, DeleteModel, RenameModel, SelectModel
from ssvae.config import load_config
from ssvae.models_registry import ModelRegistry


@pytest.fixture
def page(tmp_path):
    ds = synthetic_dataset(n=120, root=tmp_path / "data")
    ws = page_workspace(tmp_path, synthetic_predictions(ds, seed=1), selected_model=True)  # the default model's
    (tmp_path / "labels.csv").write_text("Serial,label\n3,1\n4,2\n")
    app = create_app(ds, tmp_path / "labels.csv", ws)
    return app, tab(app), ds, ws


def call_for(action, part):
    return next(c for c in action.calls if part in c.output)


def create(page, name, config="default"):
    return page.trigger("models-create-ok.n_clicks", 1, {"models-create-name.value": name,
                                                         "models-create-config.value": config},
                        output_part="models-create-modal")


def test_create_switch_and_delete_in_the_page(page, tmp_path):
    app, page, ds, ws = page
    state = app.ssvae.state
    labels_before = (tmp_path / "labels.csv").read_text()
    default_preds = state.predictions
    queue_default = list(state.queue()[:5])

    opened = page.trigger("models-new.n_clicks", 1, output_part="models-create-modal")
    assert opened.calls[0].value("models-create-modal", "is_open") is True
    made = create(page, "mix", "mixture")
    assert made.result["ok"] and "'mix' created" in made.result["message"]
    assert made.calls[0].value("models-create-modal", "is_open") is False
    assert "mixture prior" in made.result["message"]
    reg = ModelRegistry(ws)
    assert reg.names() == ["default", "mix"] and reg.selected() == "default"
    rendered = call_for(made, "models-select.options")
    assert rendered.value("models-select", "options") == ["default", "mix"]
    assert rendered.value("models-delete", "disabled") is False

    # switch: the page shows the new model's snapshot at once (here: none yet)
    switched = page.trigger("models-select.value", "mix", output_part="result")
    assert switched.result["ok"] and "Model 'mix' selected" in switched.result["message"]
    assert reg.selected() == "mix" and state.workspace.model == "mix"
    assert state.predictions is None
    m = call_for(switched, "map.figure")
    assert "d-none" not in m.value("map-placeholder", "className")  # no map for an untrained model

    other = synthetic_predictions(ds, seed=7)
    other.save(reg.folder("mix") / "predictions.npz")  # as its training would
    page.trigger("models-select.value", "default", output_part="result")
    back = page.trigger("models-select.value", "mix", output_part="result")
    assert back.result["ok"] and "its map and queue" in back.result["message"]
    assert np.array_equal(state.predictions.map2d, other.map2d)
    assert list(state.queue()[:5]) != queue_default  # the queue follows the model's scores
    call_for(back, "map.figure")  # the map is redrawn in the same round trip

    # delete the selected model: confirmation first, then back on default, labels untouched
    ask = page.trigger("models-delete.n_clicks", 1, {"models-select.value": "mix"},
                       output_part="models-delete-dlg-modal")
    assert ask.calls[0].value("models-delete-dlg-modal", "is_open") is True
    assert "Delete model 'mix'" in str(ask.calls[0].value("models-delete-text", "children"))
    gone = page.trigger("models-delete-dlg-ok.n_clicks", 1, {"models-select.value": "mix"},
                        output_part="models-delete-dlg-modal")
    assert gone.result["ok"] and "Now on model 'default'" in gone.result["message"]
    assert reg.names() == ["default"] and reg.selected() == "default"
    assert np.array_equal(state.predictions.map2d, default_preds.map2d)
    assert (tmp_path / "labels.csv").read_text() == labels_before
    assert call_for(gone, "models-select.options").value("models-delete", "disabled") is True


@pytest.mark.parametrize("config, classifier, weight", [("default", "conv", 10.0),
                                                      ("dense", "image", 50.0)])
def test_each_offered_config_gives_its_classifier(page, config, classifier, weight):
    """The dialog's configs make the models they name: the conv default, the previous dense one."""
    app, page, ds, ws = page
    made = create(page, "m2", config)
    assert made.result["ok"], made.result
    cfg = ModelRegistry(ws).config_for("m2", load_config("quick"))
    assert cfg.model.classifier == classifier and cfg.train.classification_weight == weight


def test_rename_through_the_dialog(page):
    app, page, ds, ws = page
    opened = page.trigger("models-rename.n_clicks", 1, output_part="models-rename-dlg-modal")
    assert opened.calls[0].value("models-rename-name", "value") == "default"
    done = page.trigger("models-rename-dlg-ok.n_clicks", 1, {"models-rename-name.value": "first"},
                        output_part="models-rename-dlg-modal")
    assert done.result["ok"] and "renamed to 'first'" in done.result["message"]
    assert ModelRegistry(ws).names() == ["first"] and app.ssvae.state.workspace.model == "first"
    assert app.ssvae.state.predictions is not None  # the same model, the same map


@pytest.mark.parametrize("command, message", [
    (CreateModel(model="default"), "already exists"),
    (CreateModel(model="../up"), "Model name must be 1 to 40 letters"),
    (CreateModel(model=""), "Model name must be"),
    (CreateModel(model="x", config="fancy"), "Config 'fancy' is not one of"),
    (SelectModel(model="nope"), "is no model named 'nope'; the models are: default"),
    (SelectModel(model={"evil": 1}), "Model must be"),
    (DeleteModel(model="default"), "'default' is the only model"),
    (DeleteModel(model="nope"), "no model named 'nope'"),
    (RenameModel(model="default", new_name="a/b"), "New name must be"),
])
def test_refusals_are_one_sentence(page, command, message):
    app, page, ds, ws = page
    res = app.ssvae.run(command)
    assert not res["ok"] and message in res["message"]
    assert res["message"].count(". ") == 0 and "\n" not in res["message"]
    assert ModelRegistry(ws).names() == ["default"]


def test_a_refused_create_keeps_the_dialog_open(page):
    app, page, ds, ws = page
    again = create(page, "default")
    assert not again.result["ok"] and again.calls[0].value("models-create-modal", "is_open") is True


def test_compare_chart_and_table_show_every_model(page):
    app, page, ds, ws = page
    reg = ModelRegistry(ws)
    create(page, "mix", "mixture")
    for i, (n, acc) in enumerate(((10, 0.5), (20, 0.7))):
        reg.append_run("default", {"run_id": f"d{i}", "status": "finished", "labels": n, "epochs": 5,
                                   "test_accuracy": acc, "finished_at": 1000.0 + i})
    reg.append_run("mix", {"run_id": "m0", "status": "stopped", "labels": 10, "epochs": 3,
                           "test_accuracy": 0.6, "finished_at": 2000.0})
    reg.append_run("mix", {"run_id": "m1", "status": "finished", "labels": 0, "epochs": 3,
                           "test_accuracy": 0.1, "finished_at": 2001.0})  # no labels: no point
    app.ssvae.state.bump("models")
    call = next(c for c in page.load().calls if "models-compare.figure" in c.output)
    fig = call.value("models-compare", "figure")
    lines = {t["name"]: (t["x"], t["y"]) for t in fig["data"]}
    assert lines == {"default": ([10, 20], [50.0, 70.0]), "mix": ([10], [60.0])}
    table = str(call.value("models-table", "children"))
    assert "70.0%" in table and "mixture" in table and "stopped" not in table  # mix's latest: m1
    assert "'finished'" in table and table.count("models-row-") == 2


def test_switching_follows_with_the_real_worker(tmp_path):
    """The worker serves the selected model: a run on 'mix' goes into mix's folder and
    history, switching and deleting are refused while it trains, and 'default' keeps its own."""
    from model_fixtures import tiny_npz
    from ssvae.workspace import dataset_from_config
    from dashboard.commands import StartTraining
    from dashboard.worker.service import TrainingService

    cfg = tiny_npz(tmp_path / "tiny.npz")
    ds = dataset_from_config(cfg)
    worker = TrainingService(tmp_path / "ws", cfg.model_dump(mode="json"))
    app = create_app(ds, tmp_path / "labels.csv", tmp_path / "ws", worker=worker)
    try:
        reg = ModelRegistry(tmp_path / "ws")
        run = app.ssvae.run
        wait_until(lambda: len(reg.runs("default")) == 1, 120, "the first model's run")
        default_ckpt = (reg.folder("default") / "checkpoint").read_bytes()
        assert run(CreateModel(model="mix", config="current"))["ok"]
        res = run(SelectModel(model="mix"))
        assert res["ok"], res
        wait_until(lambda: worker.status().get("model") == "mix" and worker.status().get("status") == "idle",
                   60, "the worker to load 'mix'")
        assert (reg.folder("mix") / "predictions.npz").is_file()  # the map of the images
        assert app.ssvae.refresh_predictions() is not None
        assert run(StartTraining(epochs=200, settings={}))["ok"]
        wait_until(lambda: reg.training("mix") is not None, 60, "the run on 'mix' to start")
        refused = run(SelectModel(model="default"))
        assert not refused["ok"] and "training run is in progress" in refused["message"]
        refused = run(DeleteModel(model="mix"))
        assert not refused["ok"] and "training run is in progress" in refused["message"]
        # a run stopped before its first whole epoch writes nothing (ssvae.pipeline): stop after one
        wait_until(lambda: worker.status().get("epoch", 0) >= 1, 120, "the run on 'mix' to finish an epoch")
        worker.stop_run()
        wait_until(lambda: len(reg.runs("mix")) == 1, 60, "the run on 'mix' to end")
        assert reg.runs("mix")[0]["model"] == "mix"
        assert (reg.folder("mix") / "checkpoint").is_file()
        assert (reg.folder("default") / "checkpoint").read_bytes() == default_ckpt
        wait_until(lambda: not worker.busy(), 30, "the worker to be idle")
        assert run(SelectModel(model="default"))["ok"]
        assert run(DeleteModel(model="mix"))["ok"]
        assert reg.names() == ["default"]
    finally:
        worker.shutdown(timeout=20)


def test_a_selection_made_elsewhere_reaches_the_open_page(page):
    """`ssvae models select` (or another page process) while this page runs: its next tick
    shows the other model's map and the selector follows."""
    app, page, ds, ws = page
    reg = ModelRegistry(ws)
    assert app.ssvae.run(CreateModel(model="mix"))["ok"]
    other = synthetic_predictions(ds, seed=7)
    other.save(reg.folder("mix") / "predictions.npz")
    reg.select("mix")  # as the CLI does
    tick = page.tick()
    assert np.array_equal(app.ssvae.state.predictions.map2d, other.map2d)
    assert call_for(tick, "models-select.options").value("models-select", "value") == "mix"
