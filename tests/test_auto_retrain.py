"""Retrain as labels arrive (dashboard/autoretrain.py): when a run is due, never two at once,
the option's values checked and kept across a restart. A stand-in worker (no process, no JAX)
records what it is asked; tests/test_auto_retrain_browser.py runs the real one."""
from __future__ import annotations

import pytest

import dash_fixtures
from dash_fixtures import page_workspace, synthetic_predictions
from dashboard.autoretrain import AutoRetrain, label_changes, settings_of
from dashboard.commands import Label, RemoveLabel, SetAutoRetrain, StartTraining
from dashboard.worker.protocol import DEAD, ERROR, IDLE, TRAINING
from model_fixtures import tiny_config


class Channel:
    def __init__(self):
        self.pending = False

    def has_pending_job(self):
        return self.pending


class StandInWorker:
    """What the page asks of a TrainingService, recorded; refuses a run while one is going."""

    def __init__(self):
        self.config = tiny_config()
        self.channel = Channel()
        self.state = {"status": IDLE}
        self.runs: list[tuple[dict, int, dict]] = []
        self.restarts: list[bool] = []
        self.submitted_labels = None

    def status(self):
        return dict(self.state)

    def start_run(self, labels, epochs, settings=None, restart=False):
        from dashboard.worker.service import TrainingRefused

        if self.state["status"] == TRAINING:
            raise TrainingRefused("a training run is already in progress.")
        self.runs.append((dict(labels), epochs, dict(settings or {})))
        self.restarts.append(restart)
        self.submitted_labels = dict(labels)
        self.state = {"status": TRAINING, "run_id": f"r{len(self.runs)}"}
        return self.state["run_id"]

    def finish(self):
        self.state = {"status": IDLE}


@pytest.fixture
def ws(tmp_path, ds):
    return page_workspace(tmp_path, synthetic_predictions(ds, num_labels=0))


def opened(ds, ws, tmp_path):
    state, disp = dash_fixtures.opened(ds, ws, tmp_path)
    state.worker = StandInWorker()
    return state, disp


def test_label_changes_counts_added_changed_and_removed():
    assert label_changes({1: 0, 2: 1, 3: 2}, {1: 0, 2: 2, 4: 1}) == 3
    assert label_changes({}, {}) == 0


def test_off_by_default_then_due_after_every_n_new_labels(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    auto = AutoRetrain(state)
    assert settings_of(state)["on"] is False
    for s in range(5):
        disp.dispatch(Label(s, 1))
    assert auto.new_labels() == 5 and auto.due(now=1e12) is None  # off: never due

    assert disp.dispatch(SetAutoRetrain(on=True, every=3, pause_s=0)).ok
    assert auto.due() == "5 new labels"
    assert disp.dispatch(StartTraining(epochs=2, settings={}, auto=True)).ok
    assert auto.new_labels() == 0 and auto.due() is None  # counted from the run's labels
    disp.dispatch(Label(10, 2))
    disp.dispatch(Label(11, 2))
    disp.dispatch(RemoveLabel(0))
    assert auto.new_labels() == 3
    assert auto.due() is None and auto.blocked() == "a run is going"  # never two at once
    assert not disp.dispatch(StartTraining(epochs=2, settings={}, auto=True)).ok
    state.worker.finish()
    assert auto.due() == "3 new labels"
    state.worker.channel.pending = True  # another page's run queued
    assert auto.due() is None


def test_due_after_a_pause_with_at_least_one_new_label(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    auto = AutoRetrain(state)
    assert disp.dispatch(SetAutoRetrain(on=True, every=20, pause_s=4)).ok
    assert auto.due(now=1e12) is None  # nothing new
    disp.dispatch(Label(3, 1))
    t = state.history[-1][0]
    assert auto.due(now=t + 3.9) is None
    assert auto.due(now=t + 4.0) == "1 new label, then a 4 s pause"
    assert disp.dispatch(SetAutoRetrain(on=True, every=20, pause_s=0)).ok  # 0: no pause trigger
    assert auto.due(now=t + 1e6) is None


def test_a_failed_run_or_dead_worker_stops_it_until_train_is_pressed(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    auto = AutoRetrain(state)
    disp.dispatch(SetAutoRetrain(on=True, every=1, pause_s=0))
    disp.dispatch(Label(3, 1))
    for status in (ERROR, DEAD):
        state.worker.state = {"status": status}
        assert auto.due() is None and "press Train" in auto.status_text()
    state.worker.state = {"status": IDLE}
    assert auto.due() == "1 new label"


def test_labels_the_model_lacks_at_start_up_count_as_new(ds, tmp_path):
    ws = tmp_path / "ws2"
    ws.mkdir()
    p = synthetic_predictions(ds, num_labels=2)
    p.meta["labels_fingerprint"] = "0123456789abcdef"
    p.save(ws / "predictions.npz")
    (tmp_path / "labels.csv").write_text("Serial,label\n1,1\n2,2\n3,3\n4,4\n5,5\n")
    state, _ = opened(ds, ws, tmp_path)
    assert AutoRetrain(state).new_labels() == 3  # 5 labels, a model trained on 2 others


@pytest.mark.parametrize("args, message", [
    ({"on": "yes"}, "Retrain as I label must be true or false"),
    ({"on": True, "every": 0}, "between 1 and 100,000, not 0"),
    ({"on": True, "every": 2.5}, "whole number"),
    ({"on": True, "every": None}, "must be a number, not empty"),
    ({"on": True, "pause_s": -1}, "between 0 and 3600 seconds"),
    ({"on": True, "pause_s": float("nan")}, "must be a number"),
])
def test_bad_values_are_refused_in_one_sentence(ds, ws, tmp_path, args, message):
    state, disp = opened(ds, ws, tmp_path)
    res = disp.dispatch(SetAutoRetrain(**args))
    assert not res.ok and message in res.message and settings_of(state)["on"] is False


def test_the_option_and_the_panel_epochs_survive_a_restart(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    assert disp.dispatch(StartTraining(epochs=7, settings={"learning_rate": 0.002})).ok
    state.worker.finish()
    assert disp.dispatch(SetAutoRetrain(on=True, every=12, pause_s=2.5)).ok
    assert disp.dispatch(StartTraining(epochs=1, settings={}, auto=True)).ok  # an auto run
    again, _ = dash_fixtures.opened(ds, ws, tmp_path)
    assert again.training["auto"] == {"on": True, "every": 12, "pause_s": 2.5}
    assert again.training["epochs"] == 7 and again.training["settings"] == {"learning_rate": 0.002}


@pytest.mark.parametrize("start, labels, fresh", [(0, 4, True), (4, 7, False), (4, 8, True), (None, 50, False)])
def test_a_run_starts_from_fresh_weights_once_the_labels_have_grown_enough(ds, tmp_path, start, labels, fresh):
    """`train.restart_growth: 2`: a model that began with `start` labels (0: none, None: not
    recorded, an older model) is retrained warm for the asked epochs, or from fresh weights for
    at least a restart's budget, and the message says why."""
    from ssvae.schedule import restart_epochs

    ws = page_workspace(tmp_path, synthetic_predictions(ds, num_labels=start or 0, start_labels=start))
    state, disp = opened(ds, ws, tmp_path)
    state.worker.config = tiny_config(train={"restart_growth": 2.0, "epochs": 7, "retrain_epochs": 2})
    for s in range(labels):
        disp.dispatch(Label(s, s % 2))
    result = disp.dispatch(StartTraining(epochs=2, settings={}))
    assert result.ok and state.worker.restarts == [fresh]
    assert state.worker.runs[0][1] == (restart_epochs(ds.size, state.worker.config) if fresh else 2)
    assert ("fresh weights" in result.message) == fresh
    if fresh:
        assert (f"the labels grew from {start} to {labels}" if start else
                "this model was trained before any label") in result.message
