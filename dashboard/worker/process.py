"""The training worker's main loop. Runs in a process started with the ``spawn`` method.

JAX is imported here only, inside :func:`run_worker`, never at module import: the web
process imports this module to name the target of the spawned process.
"""
from __future__ import annotations

import logging
import os
import signal
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from dashboard.worker.protocol import ERROR, IDLE, STARTING, STOPPING, TRAINING, Channel

log = logging.getLogger("ssvae.worker")

CHECKPOINT = "checkpoint"
PREDICTIONS = "predictions.npz"
IMAGE_MAP = "image_map.npz"  # the map of the images, kept for the next start
STEP_EVENT_INTERVAL_S = 0.5  # step-level progress events are published at most this often
STOP_POLL_INTERVAL_S = 0.1
WORKER_NICENESS = 5


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class Worker:
    """Holds the warm model between runs and serves jobs from the channel."""

    def __init__(self, spec: dict[str, Any]):
        from ssvae.config import config_from_dict
        from ssvae.models_registry import ModelRegistry
        from ssvae.workspace import dataset_from_config

        self.spec = spec
        self.workspace = Path(spec["workspace"])  # the data set's folder; models inside
        self.channel = Channel(spec["store"])
        self.base_config = config_from_dict(spec["config"], "training worker config")
        self.registry = ModelRegistry(self.workspace)
        #: the model this worker serves (its config, checkpoint, predictions)
        self.model = spec.get("model") or self.registry.selected()
        self.config = self.registry.config_for(self.model, self.base_config)
        self.dataset = dataset_from_config(self.base_config)
        self.trainer = None
        self.published = None  # (model, Predictions) of the last run this worker published
        self.parent_pid = spec.get("parent_pid")

    # -- model ----------------------------------------------------------------------------
    @property
    def model_root(self) -> Path:
        return self.registry.models_root / self.model

    @property
    def checkpoint_path(self) -> Path:
        return self.model_root / CHECKPOINT

    @property
    def predictions_path(self) -> Path:
        return self.model_root / PREDICTIONS

    def switch_model(self, name: str) -> str:
        """Serve model ``name`` from now on: its config and its last good checkpoint (or a new
        model), and the map of the images where it has no snapshot yet."""
        self.registry.folder(name)  # a one-sentence ModelError for a model that is gone
        self.model = name
        self.config = self.registry.config_for(name, self.base_config)
        self.trainer = None
        self.draw_image_map()
        return self.load_model()

    def load_model(self) -> str:
        """The newest good checkpoint (or an older good one kept beside it) if one fits, else a
        fresh model. Returns what happened."""
        from ssvae.pipeline import resume
        from ssvae.train import Trainer

        trainer, used, problems = resume(self.checkpoint_path, self.dataset)
        if trainer is not None:
            self.trainer = trainer
            if problems:
                self.channel.publish_error(f"{problems[0]} An older good checkpoint was used.")
            return f"resumed from {used}"
        if problems:
            self.channel.publish_error(f"{problems[0]} A new model was started instead.")
        self.trainer = Trainer(self.config, self.dataset)
        return "started a new model"

    def draw_image_map(self) -> bool:
        """Before any model: write the map of the images themselves (a map-only snapshot), so
        the page has a map to label from while the first model trains. Only when there is no
        snapshot at all: the page shows the newest file, which must never replace a model's."""
        if self.predictions_path.exists():
            return False
        from ssvae.predictions import images_snapshot

        snap = images_snapshot(self.dataset.images, seed=self.config.train.seed,
                               meta={"dataset": self.dataset.name},
                               cache=self.workspace / IMAGE_MAP)
        if self.predictions_path.exists():  # a model's snapshot arrived meanwhile
            return False
        snap.save(self.predictions_path)
        return True

    # -- loop -------------------------------------------------------------------------------
    def parent_alive(self) -> bool:
        if not self.parent_pid:
            return True
        return os.getppid() == self.parent_pid

    def serve(self) -> None:
        while self.parent_alive():
            job = self.channel.next_job()
            if job is None:
                time.sleep(0.05)
                continue
            if job.get("type") == "shutdown":
                break
            if job.get("type") == "train":
                self.run(job)
            elif job.get("type") == "load":
                self.load(job)

    def load(self, job: dict[str, Any]) -> None:
        """Switch to the model the page selected (no training)."""
        name = job.get("model")
        self.channel.set_state(status=STARTING, run_id=None, model=name,
                               message=f"loading model '{name}'")
        try:
            what = self.switch_model(name)
        except Exception as exc:
            log.exception("could not load model %s", name)
            message = f"could not load model '{name}': {exc}"
            self.channel.publish_error(message)
            self.channel.set_state(status=ERROR, model=self.model, message=message)
            return
        self.channel.set_state(status=IDLE, model=name, message=f"model '{name}': {what}")

    def run(self, job: dict[str, Any]) -> None:
        run_id = job["run_id"]
        epochs = int(job["epochs"])
        labels = {int(s): int(c) for s, c in job.get("labels", [])}
        t0 = time.time()
        events: list[dict[str, Any]] = []
        last_step_pub = [0.0]
        last_stop_poll = [0.0, False]
        first_step: list[float | None] = [None]
        polls = [0]
        model = job.get("model") or self.model
        self.channel.set_state(status=TRAINING, run_id=run_id, epoch=0, progress=0.0, epochs=epochs,
                               eta_s=None, started_at=t0, labels=len(labels), message="",
                               model=model)

        def on_progress(metrics: dict[str, Any]) -> None:
            now = time.time()
            ev = {k: v for k, v in metrics.items()
                  if isinstance(v, (int, float, str, bool)) and k != "history"}
            ev["time_s"] = now - t0
            if ev.get("event") != "epoch" and now - last_step_pub[0] < STEP_EVENT_INTERVAL_S:
                return
            last_step_pub[0] = now
            events.append(ev)
            self.channel.publish_curves(run_id, events)
            if ev.get("event") == "epoch":
                progress = float(ev.get("run_epoch", 0))
            else:
                progress = ev.get("run_epoch", 1) - 1 + ev.get("run_step", 0) / ev.get("steps_per_epoch", 1)
            stopping = self.channel.state().get("status") == STOPPING
            self.channel.set_state(status=STOPPING if stopping else TRAINING, epoch=int(progress),
                                   progress=progress, eta_s=ev.get("eta_s"))

        def should_stop() -> bool:  # polled before every step
            now = time.time()
            polls[0] += 1
            if polls[0] == 2:  # the first step is compiled and dispatched (for latency figures)
                first_step[0] = now
            if now - last_stop_poll[0] >= STOP_POLL_INTERVAL_S:
                last_stop_poll[0] = now
                last_stop_poll[1] = self.channel.stop_requested(run_id)
            return bool(last_stop_poll[1])

        summary: dict[str, Any] = {"run_id": run_id, "labels": len(labels), "started_at": t0,
                                   "epochs_requested": epochs, "settings": job.get("settings", {}),
                                   "model": model, "restart": bool(job.get("restart"))}
        from ssvae.pipeline import train_and_publish

        try:
            if model != self.model or self.trainer is None:
                self.switch_model(model)
            self.apply_settings(job.get("settings") or {})
            with self.registry.training_marker(model, run_id):
                outcome = train_and_publish(self.trainer, epochs, labels,
                                            checkpoint=self.checkpoint_path,
                                            predictions=self.predictions_path,
                                            previous=self.previous_predictions(),
                                            on_progress=on_progress, should_stop=should_stop,
                                            restart=bool(job.get("restart")), map_kind="later")
            result = outcome.result
            history = result["history"]
            trained_at = time.time()
            changed = outcome.changed  # stopped before a whole epoch: the model did not change
            final = history[-1] if history else {}
            status = ("stopped" if result["stopped"] else
                      "early-stopped" if result.get("early_stopped") else "finished")
            summary.update(
                status=status, epochs=len(history),
                seconds=time.time() - t0, finished_at=time.time(), trained_at=trained_at,
                submitted_at=job.get("submitted_at"), first_step_at=first_step[0],
                test_accuracy=final.get("test_accuracy"),
                final={k: v for k, v in final.items() if isinstance(v, (int, float))},
            )
            if outcome.predictions is not None:
                self.published = (model, outcome.predictions)
                if outcome.predictions.meta.get("new_labels"):
                    summary["new_labels"] = outcome.predictions.meta["new_labels"]
            message = f"run {summary['status']} after {len(history)} epochs"
            if outcome.warning:
                summary["warning"] = outcome.warning
                message += f"; warning: {outcome.warning}"
            pending = outcome.predictions is not None and outcome.predictions.pending_map is not None
            self.registry.append_run(model, summary)
            self.channel.publish_run(summary, new_result=changed, state=dict(
                status=IDLE, eta_s=None, epoch=len(history),
                message=message + ("; drawing its map" if pending else "")))
            if pending:
                self.draw_map(run_id, outcome.predictions, message)
        except Exception as exc:  # training failed: report, keep the worker and the last good model
            log.exception("training run %s failed", run_id)
            from ssvae.errors import SSVAEError

            message = (f"training run failed: {exc}" if isinstance(exc, SSVAEError)
                       else f"training run failed: {type(exc).__name__}: {exc}")
            summary.update(status="failed", seconds=time.time() - t0, error=message,
                           finished_at=time.time())
            self.channel.publish_error(message, run_id)
            self.registry.append_run(model, summary)
            self.channel.publish_run(summary, new_result=False, state=dict(
                status=ERROR, eta_s=None, message=message, trace=traceback.format_exc(limit=5)))
            try:
                self.load_model()  # back to the last good checkpoint
            except Exception:  # pragma: no cover - nothing better to do
                log.exception("could not reload the model after a failure")

    def draw_map(self, run_id: str, preds, message: str) -> None:
        """The second step of a run: its predictions are on the page with the map before it;
        draw the map of the new model (UMAP, ~22 s on 60 000 images) and write them again, then
        say so after the run's ``message`` (unless a new run was queued meanwhile). A failure
        here keeps the run and its predictions and says so."""
        from ssvae.pipeline import publish_map

        t0 = time.time()
        try:
            drawn = publish_map(self.trainer, preds, self.predictions_path)
        except Exception as exc:
            log.exception("could not draw the map of run %s", run_id)
            self.channel.publish_error(f"the map of the new model could not be drawn "
                                       f"({type(exc).__name__}: {exc}); the page keeps the map "
                                       "before it.", run_id)
            return
        if self.published is not None and self.published[1] is preds:
            self.published = (self.published[0], drawn)
        self.channel.set_state_if({"status": IDLE, "run_id": run_id},
                                  message=f"{message}; map drawn in {time.time() - t0:.1f} s")

    def apply_settings(self, settings: dict[str, Any]) -> None:
        """Change training settings (learning rate, loss weights, batch size…) for this run."""
        if not settings:
            return
        self.trainer.configure(settings)

    def previous_predictions(self):
        """The model's last snapshot: the new map is aligned with it, and its model is scored on
        the labels given since. The run this worker published last, else the file (a
        restarted worker)."""
        if self.published is not None and self.published[0] == self.model:
            return self.published[1]
        if not self.predictions_path.exists():
            return None
        from ssvae.errors import CheckpointError
        from ssvae.predictions import Predictions

        try:
            return Predictions.load(self.predictions_path)
        except CheckpointError:
            return None


def run_worker(spec: dict[str, Any]) -> None:
    """Entry point of the spawned worker process."""
    # Ctrl+C in the terminal reaches the whole process group: the app, not the worker, handles
    # it, by asking the worker to stop (finished epochs are kept) and shut down
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(WORKER_NICENESS)  # labeling in the web process comes first on a busy CPU
    except OSError:
        pass
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(levelname)s %(message)s")
    log.setLevel(logging.INFO)
    channel = Channel(spec["store"])
    channel.set_state(status=STARTING, pid=os.getpid(), message="loading the model")
    try:
        worker = Worker(spec)
        drawn = ""
        if not worker.predictions_path.exists():  # the map first: it needs no model, no JAX
            channel.set_state(status=STARTING, pid=os.getpid(),
                              message="drawing the map of the images")
            t0 = time.time()
            if worker.draw_image_map():
                drawn = f"; map of the images drawn in {time.time() - t0:.1f} s"
            channel.set_state(status=STARTING, pid=os.getpid(), message="loading the model")
        what = worker.load_model() + drawn
        channel.set_state(status=IDLE, pid=os.getpid(), message=what, model=worker.model)
        worker.serve()
    except Exception as exc:
        channel.publish_error(f"training worker could not start: {type(exc).__name__}: {exc}")
        channel.set_state(status=ERROR, message=f"worker could not start: {exc}")
        raise
