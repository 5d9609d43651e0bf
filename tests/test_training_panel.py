"""The training panel over HTTP with a real worker on a tiny data set: the first model trains
by itself, Start/Stop go through the dispatcher, curves grow by extendData, a run's end
refreshes the page, and forged settings are refused without touching the worker."""
from __future__ import annotations

import pytest

from dashboard.app import create_app
from dashboard.commands import TRAIN_SETTINGS, StartTraining
from dashboard.headless import HeadlessPage
from dashboard.worker.protocol import IDLE
from dashboard.worker.service import TrainingService
from dash_fixtures import wait_until
from model_fixtures import tiny_npz
from ssvae.workspace import dataset_from_config


def wait_for(predicate, timeout=90.0, what="condition"):
    return wait_until(predicate, timeout, what)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("panel")
    cfg = tiny_npz(root / "tiny.npz")
    ds = dataset_from_config(cfg)
    worker = TrainingService(root / "ws", cfg.model_dump(mode="json"))
    app = create_app(ds, root / "labels.csv", root / "ws", worker=worker)
    yield app
    worker.shutdown(timeout=20)


def ended_runs(app):
    app.ssvae.state.worker.status()
    return [r for r in app.ssvae.state.worker.channel.runs() if r.get("status") != "interrupted"]


def form(app, **values):
    """The panel's inputs as a browser sends them: the defaults, with ``values`` changed."""
    t = app.ssvae.state.worker.config.train
    out = {"train-epochs.value": t.retrain_epochs}
    out.update({f"train-{key}.value": getattr(t, key) for key, _, _ in TRAIN_SETTINGS})
    out.update({f"train-{k}.value": v for k, v in values.items()})
    return out


def call_for(action, part):
    return next(c for c in action.calls if part in c.output)


def test_first_model_trains_by_itself_and_its_end_refreshes_the_page(app):
    state = app.ssvae.state
    page = HeadlessPage(app)
    first = call_for(page.load(), "train-badge")
    assert first.value("train-badge", "children") in ("starting", "queued", "training", "idle")
    assert state.training["run_id"]
    run = wait_for(lambda: next(iter(ended_runs(app)), None), what="the first run")
    assert run["status"] == "finished" and run["labels"] == 0
    assert state.worker.status()["status"] == IDLE  # written with the run's summary
    call = page.training_tick()
    result = call.value("update", "data")
    assert state.predictions is not None, "the run's end loaded its predictions"
    assert result["ok"] and "first trained model" in result["message"]
    assert call.value("train-badge", "children") == "idle"
    assert "finished" in str(call.value("train-history", "children"))
    # a second tick with nothing new is a 204: no body at all
    assert page.training_tick().status == 204


def test_start_refuse_stop_and_curves_grow_by_extension(app):
    state = app.ssvae.state
    wait_for(lambda: ended_runs(app), what="the first run")
    page = HeadlessPage(app)
    page.load()
    page.trigger("key-event.data", {"key": "1"})  # a label, then train on it
    n_runs = len(ended_runs(app))
    start = page.trigger("train-start.n_clicks", 1, form(app, epochs=5000, learning_rate=0.002))
    assert start.result["ok"], start.result
    assert "5,000 epochs on 1 label;" in start.result["message"]
    again = page.trigger("train-start.n_clicks", 2, form(app, epochs=3))
    assert not again.result["ok"] and "already" in again.result["message"]
    wait_for(lambda: state.worker.status().get("progress", 0) >= 1, what="an epoch")
    page.training_tick()  # this tab has drawn the new run's curves so far
    n_drawn = page.stores["seen-training"]["n"]
    assert n_drawn >= 1
    wait_for(lambda: len(state.worker.channel.curves(state.worker.status()["run_id"])) > n_drawn + 1,
             what="more epochs")
    grown = page.training_tick()
    ext = grown.value("train-curves", "extendData")
    assert grown.response["response"]["train-curves"].keys() == {"extendData"}, "no figure resent"
    assert len(ext[0]["x"]) == 8 and sum(len(x) for x in ext[0]["x"]) > 0
    assert grown.value("train-stop", "disabled") is False and grown.value("train-start", "disabled") is True
    assert "epoch" in grown.value("train-status", "children")
    stop = page.trigger("train-stop.n_clicks", 1)
    assert stop.result["ok"], stop.result
    wait_for(lambda: len(ended_runs(app)) > n_runs, what="the stopped run to end")
    summary = ended_runs(app)[-1]
    assert summary["status"] == "stopped" and 1 <= summary["epochs"] < 5000
    assert summary["settings"]["learning_rate"] == 0.002
    version = state.versions["predictions"]
    wait_for(lambda: page.training_tick().status == 200 and state.versions["predictions"] > version,
             what="the page to load the new predictions")
    assert state.worker.status()["status"] == IDLE
    # the settings come back in the form after a restart: the start is in the command log
    assert '"cmd":"start_training"' in state.workspace.command_log.read_text()


FORGED = [
    ({"epochs": "10; rm -rf /"}, "Epochs must be a number"),
    ({"epochs": None}, "Epochs must be a number, not empty"),
    ({"epochs": 0}, "between 1 and"),
    ({"epochs": 1e9}, "between 1 and"),
    ({"epochs": 2.5}, "whole number"),
    ({"learning_rate": -1}, "learning_rate"),
    ({"learning_rate": "fast"}, "Learning rate must be a number"),
    ({"learning_rate": float("nan")}, "Learning rate must be a number"),
    ({"batch_size": 3}, "batch_size"),
    ({"batch_size": 64.5}, "whole number"),
    ({"kl_weight": -0.5}, "kl_weight"),
    ({"classification_weight": [1, 2]}, "must be a number"),
    ({"unlabeled_weight": True}, "must be a number"),
]


@pytest.mark.parametrize("values, words", FORGED)
def test_forged_training_settings_are_refused_and_change_nothing(app, values, words):
    state = app.ssvae.state
    wait_for(lambda: not state.worker.busy(), what="the worker to be idle")
    page = HeadlessPage(app)
    log_before = state.workspace.command_log.read_text()
    runs_before = state.worker.channel.runs()
    res = page.trigger("train-start.n_clicks", 1, form(app, **values)).result
    assert res["ok"] is False and words.lower() in res["message"].lower(), res
    assert res["message"].endswith(".") and "\n" not in res["message"]
    assert not state.worker.channel.has_pending_job() and not state.worker.busy()
    assert state.workspace.command_log.read_text() == log_before
    assert state.worker.channel.runs() == runs_before


def test_unknown_setting_and_stop_without_run_are_refused(app):
    state = app.ssvae.state
    wait_for(lambda: not state.worker.busy(), what="the worker to be idle")
    res = app.ssvae.dispatcher.dispatch(StartTraining(epochs=3, settings={"seed": 1}))
    assert not res.ok and "'seed' is not one of" in res.message
    page = HeadlessPage(app)
    stop = page.trigger("train-stop.n_clicks", 1)
    assert stop.result["ok"] is False and "nothing to stop" in stop.result["message"]


def test_a_start_right_after_a_run_ended_goes_on_from_that_runs_weights(tmp_path):
    """The page decides warm or fresh from its model's predictions. A run that has just ended
    wrote new ones that no tick has loaded yet: Train must read those, not restart again."""
    cfg = tiny_npz(tmp_path / "tiny.npz")
    worker = TrainingService(tmp_path / "ws", cfg.model_dump(mode="json"))
    app = create_app(dataset_from_config(cfg), tmp_path / "labels.csv", tmp_path / "ws", worker=worker)
    try:
        state = app.ssvae.state
        wait_for(lambda: ended_runs(app) and worker.status()["status"] == IDLE, what="the first model")
        page = HeadlessPage(app)
        page.load()
        page.tick()  # the sync tick loads the label-free first model's predictions
        assert state.predictions.meta.get("start_labels") == 0
        for key in "012":
            assert page.trigger("key-event.data", {"key": key}).result["ok"]

        def press_train(n):  # the Train button's own round trip, without the redraws after it
            return page.action("train-start.n_clicks", n, form(app, epochs=1)).result

        assert press_train(1)["ok"]
        wait_for(lambda: len(ended_runs(app)) == 2 and worker.status()["status"] == IDLE,
                 what="the first labeled run")
        # no tick in between: the page still holds the label-free model's predictions
        assert state.predictions.meta.get("start_labels") == 0
        again = press_train(2)
        assert again["ok"] and "fresh weights" not in again["message"], again
        wait_for(lambda: len(ended_runs(app)) == 3, what="the second labeled run")
        assert [bool(r.get("restart")) for r in ended_runs(app)[1:]] == [True, False]
    finally:
        worker.shutdown(timeout=20)


def test_killed_worker_shows_an_error_labeling_goes_on_and_start_recovers(app):
    """Last in this module: it kills the module's worker (SIGKILL mid-run)."""
    import os
    import signal

    state = app.ssvae.state
    wait_for(lambda: not state.worker.busy(), what="the worker to be idle")
    page = HeadlessPage(app)
    page.load()
    assert page.trigger("train-start.n_clicks", 1, form(app, epochs=5000)).result["ok"]
    wait_for(lambda: state.worker.status().get("progress", 0) >= 1, what="an epoch")
    os.kill(state.worker._proc.pid, signal.SIGKILL)
    call = wait_for(lambda: (c := page.training_tick()).status == 200
                    and c.value("train-badge", "children") == "not running" and c, what="the death")
    assert call.value("train-error", "is_open") is True
    assert "killed by signal 9" in call.value("train-error", "children")
    assert call.value("train-start", "disabled") is False
    n = len(state.labels)
    assert page.trigger("key-event.data", {"key": "0"}).result["ok"] and len(state.labels) == n + 1
    again = page.trigger("train-start.n_clicks", 1, form(app, epochs=1))
    assert again.result["ok"], again.result
    wait_for(lambda: ended_runs(app)[-1]["status"] == "finished", what="a run in a new worker")
    assert page.training_tick().value("train-error", "is_open") is False
