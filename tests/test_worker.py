"""The training worker's job protocol with the real trainer on a tiny data set: start,
progress, refusal of a second start, stop, a failing run, and SIGKILL with recovery."""
from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest

from dash_fixtures import wait_until

from dashboard.worker.protocol import DEAD, IDLE
from dashboard.worker.service import TrainingRefused, TrainingService
from ssvae.config import load_config
from ssvae.predictions import Predictions


def wait_run(service, run_id, timeout=120.0):
    """The run's summary once it has ended (finished, stopped, early-stopped or failed)."""
    def ended():
        service.status()  # notices a dead worker
        return next((r for r in service.channel.runs() if r["run_id"] == run_id), None)
    return wait_until(ended, timeout, what=f"run {run_id} to end")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 3-class data set of 8×8 blobs: 300 pool images, 60 test images."""
    root = tmp_path_factory.mktemp("tinydata")
    rng = np.random.default_rng(0)

    def make(n):
        y = rng.integers(0, 3, n)
        x = rng.integers(0, 40, (n, 8, 8)).astype(np.uint8)
        for i, c in enumerate(y):
            x[i, 2 * c:2 * c + 3, 1:7] = 230
        return x, y

    x, y = make(300)
    xt, yt = make(60)
    path = root / "blobs.npz"
    np.savez(path, x=x, y=y, x_test=xt, y_test=yt, class_names=np.array(["a", "b", "c"]))
    return path, y


def make_service(tiny, tmp_path) -> TrainingService:
    path, _ = tiny
    cfg = load_config("quick", {"data.dataset": f"npz:{path}", "train.batch_size": 32})
    return TrainingService(tmp_path / "ws", cfg.model_dump(mode="json"))


@pytest.fixture
def service(tiny, tmp_path):
    svc = make_service(tiny, tmp_path)
    yield svc
    svc.shutdown(timeout=20)


def labels_of(truth, n=30):
    return {i: int(truth[i]) for i in range(n)}


def test_run_reports_progress_and_publishes_predictions(service, tiny):
    _, truth = tiny
    run = service.start_run(labels_of(truth), epochs=3)
    summary = wait_run(service, run)
    assert summary["status"] == "finished", summary.get("error")
    # the run's summary and the worker's idle state are one write: a new run may start at once
    assert service.status()["status"] == IDLE and service.status()["run_id"] == run
    events = service.channel.curves(run)
    epochs = [e for e in events if e.get("event") == "epoch"]
    assert len(epochs) == 3 and epochs[-1]["epoch"] == 3
    assert any("loss" in k for k in epochs[-1])
    preds = Predictions.load(service.predictions_path)
    assert preds.probs.shape == (300, 3) and preds.map2d.shape == (300, 2)
    assert preds.recon.dtype == np.uint8 and set(preds.scores) >= {"entropy", "margin", "bald"}
    assert service.channel.runs() == [summary]
    assert summary["labels"] == 30 and summary["epochs"] == 3 and service.channel.result_version() == 1
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert "new_labels" not in summary  # no earlier model to score
    # the predictions come first with the map before them, then the worker draws the model's
    drawn = wait_until(lambda: (p := Predictions.load(service.predictions_path)).meta["map"] == "umap"
                       and p, 60, what="the run's map")
    assert preds.meta["map"] in ("later", "umap") and drawn.meta["step"] == preds.meta["step"]
    np.testing.assert_array_equal(drawn.probs, preds.probs)
    wait_until(lambda: "map drawn in" in service.status()["message"], 30, what="the map's message")
    # ten more labels: the run reports how many of them the model before it predicted right
    second = wait_run(service, service.start_run(labels_of(truth, 40), epochs=1))
    right = int((preds.pred[30:40] == truth[30:40]).sum())
    assert second["new_labels"] == {"right": right, "checked": 10}


def test_second_start_refused_then_stop_keeps_epochs(service, tiny):
    _, truth = tiny
    run = service.start_run(labels_of(truth), epochs=5000)
    with pytest.raises(TrainingRefused, match="already"):
        service.start_run(labels_of(truth), epochs=1)
    wait_until(lambda: len(service.channel.curves(run)) >= 3, 120, what="a few epochs")
    service.stop_run()
    summary = wait_run(service, run, 60)
    assert summary["status"] == "stopped" and 1 <= summary["epochs"] < 5000, summary
    wait_until(lambda: service.status()["status"] == IDLE, 30, what="the worker to go idle")  # after the run is published
    assert service.channel.result_version() >= 1  # stopping refreshes the predictions
    assert (service.models.folder() / "checkpoint").exists()
    with pytest.raises(TrainingRefused, match="nothing to stop"):
        service.stop_run()
    # the labels snapshot was taken at start; the next run trains on more labels, warm
    t0 = time.time()
    run2 = service.start_run(labels_of(truth, 60), epochs=2)
    summary2 = wait_run(service, run2, 60)
    assert summary2["status"] == "finished" and summary2["labels"] == 60
    assert time.time() - t0 < 30


def test_a_failing_run_is_reported_and_the_worker_keeps_serving(service, tiny):
    _, truth = tiny
    service.ensure_worker()
    wait_until(lambda: service.status()["status"] == IDLE, 120, what="the worker")
    # a forged job that bypasses the web side's checks: a Serial outside the data set
    service.channel.submit({"type": "train", "run_id": "forged", "epochs": 1,
                            "labels": [[100000, 1]], "settings": {}})
    assert wait_run(service, "forged", 60)["status"] == "failed"
    assert service.channel.error()["run_id"] == "forged"
    assert "100000" in service.channel.error()["message"]
    run = service.start_run(labels_of(truth), epochs=1)
    assert wait_run(service, run, 60)["status"] == "finished"
    assert service.channel.error() is None


def test_sigkill_mid_run_is_reported_and_start_recovers(service, tiny):
    _, truth = tiny
    first = service.start_run(labels_of(truth), epochs=2)
    assert wait_run(service, first)["status"] == "finished"
    good = Predictions.load(service.predictions_path)
    run = service.start_run(labels_of(truth), epochs=5000)
    wait_until(lambda: len(service.channel.curves(run)) >= 2, 60, what="training")
    os.kill(service._proc.pid, signal.SIGKILL)
    state = wait_until(lambda: service.status() if service.status()["status"] == DEAD else None,
                     30, what="the death to be noticed")
    assert "killed by signal 9" in state["message"] and "labels are safe" in state["message"]
    assert wait_run(service, run, 5)["status"] == "failed"
    # the last good snapshot is untouched and loads
    assert Predictions.load(service.predictions_path).probs.shape == good.probs.shape
    run3 = service.start_run(labels_of(truth), epochs=1)
    assert wait_run(service, run3)["status"] == "finished"
    assert service.status()["message"].startswith("run finished")
    assert first != run3


def test_web_side_never_imports_jax():
    import subprocess

    code = ("import sys; import dashboard.worker.service, dashboard.worker.process; "
            "print('jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_stop_before_a_whole_epoch_writes_nothing(service, tiny):
    _, truth = tiny
    run = service.start_run(labels_of(truth), epochs=5000)
    service.stop_run()  # before the worker has even picked the job up
    summary = wait_run(service, run)
    assert summary["status"] == "stopped" and summary["epochs"] == 0
    assert not (service.models.folder() / "checkpoint").exists()
    assert service.channel.result_version() == 0
    # what is there is the map of the images the worker drew before any model
    from ssvae.predictions import Predictions

    only = Predictions.load(service.predictions_path)
    assert not only.has_model and only.map2d.shape == (len(truth), 2)
    assert only.embedding.shape[0] == len(truth) and np.isfinite(only.map2d).all()


def test_a_map_that_fails_keeps_the_run_and_its_predictions(tiny, tmp_path, monkeypatch):
    """The worker in this process: the run's predictions are written, then drawing their map
    raises; the run stays finished, the predictions stay (on the map before them), the error
    says what failed, and the next run draws its map."""
    import ssvae.pipeline
    from dashboard.worker.process import Worker
    from dashboard.worker.protocol import Channel

    path, truth = tiny
    cfg = load_config("quick", {"data.dataset": f"npz:{path}", "train.batch_size": 32})
    store = tmp_path / "ws" / "store"
    worker = Worker({"workspace": str(tmp_path / "ws"), "store": str(store),
                     "config": cfg.model_dump(mode="json")})
    worker.draw_image_map()
    image_map = Predictions.load(worker.predictions_path)

    def broken(*_a, **_k):
        raise MemoryError("no room for the map")

    monkeypatch.setattr(ssvae.pipeline, "publish_map", broken)
    job = {"type": "train", "run_id": "r1", "epochs": 1, "labels": sorted(labels_of(truth).items())}
    worker.run(job)
    channel = Channel(store)
    assert channel.runs()[-1]["status"] == "finished"
    assert "the map of the new model could not be drawn (MemoryError: no room for the map)" in channel.error()["message"]
    saved = Predictions.load(worker.predictions_path)
    assert saved.has_model and saved.meta["map"] == "later"
    np.testing.assert_array_equal(saved.map2d, image_map.map2d)
    assert channel.state()["status"] == IDLE
    monkeypatch.undo()
    worker.run({**job, "run_id": "r2"})
    assert Predictions.load(worker.predictions_path).meta["map"] == "umap"
    assert "map drawn in" in channel.state()["message"]
