"""The web process's handle on the training worker: spawn it, submit runs, stop, watch.

No JAX here. The worker is a ``spawn`` child (never ``fork``: JAX deadlocks after fork).
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from dashboard.worker.process import PREDICTIONS, new_run_id, run_worker
from dashboard.worker.protocol import BUSY, DEAD, ERROR, QUEUED, STARTING, STOPPING, Channel
from ssvae.errors import SSVAEError


class TrainingRefused(SSVAEError):
    """A start or stop that cannot be done now; the message says why."""


class TrainingService:
    def __init__(self, workspace: str | Path, config_dict: dict[str, Any]):
        self.workspace = Path(workspace)
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.store_dir = self.workspace / "store"
        self.channel = Channel(self.store_dir)
        self.config_dict = config_dict
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._lock = threading.Lock()
        self._config = None
        self._model_config = None  # ((model, config.yaml mtime), Config)
        #: the labels the last run from this process was given (the page's retrain-as-you-label
        #: option counts new labels from these); None until a run is submitted
        self.submitted_labels: dict[int, int] | None = None
        self._close_interrupted()

    def _close_interrupted(self) -> None:
        """A run the previous app left mid-way (its worker died with it) goes into the history
        as interrupted, and jobs it never started are dropped."""
        self.channel.clear_jobs()
        state = self.channel.state()
        run_id = state.get("run_id")
        if run_id and state.get("status") in BUSY and not any(
                r.get("run_id") == run_id for r in self.channel.runs()):
            self.channel.publish_run({"run_id": run_id, "status": "interrupted", "labels": state.get("labels"),
                                      "model": state.get("model") or self.models.selected(),
                                      "error": "the app stopped while this run was training",
                                      "finished_at": state.get("updated") or time.time()},
                                     new_result=False)
        if state.get("status") != DEAD:
            self.channel.set_state(status=DEAD, run_id=run_id, message="the training worker is not running",
                                   eta_s=None)

    @property
    def base_config(self):
        """The app's configuration (pydantic, no JAX)."""
        if self._config is None:
            from ssvae.config import config_from_dict

            self._config = config_from_dict(self.config_dict, "training worker config")
        return self._config

    @property
    def config(self):
        """The selected model's configuration (its own sections over the app's), to validate
        training settings here; read again when the selection or its config.yaml changes."""
        reg = self.models
        name = reg.selected()
        path = reg.models_root / name / "config.yaml"
        try:
            stamp = (name, path.stat().st_mtime_ns)
        except OSError:
            stamp = (name, None)
        if self._model_config is None or self._model_config[0] != stamp:
            self._model_config = (stamp, reg.config_for(name, self.base_config))
        return self._model_config[1]

    @property
    def models(self):
        from ssvae.models_registry import ModelRegistry

        return ModelRegistry(self.workspace)

    @property
    def predictions_path(self) -> Path:
        """The selected model's predictions snapshot."""
        return self.models.folder() / PREDICTIONS

    # -- the process ------------------------------------------------------------------------
    def worker_alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def ensure_worker(self) -> None:
        with self._lock:
            if self.worker_alive():
                return
            spec = {"workspace": str(self.workspace), "store": str(self.store_dir),
                    "config": self.config_dict, "parent_pid": os.getpid(),
                    "model": self.models.selected()}
            self.channel.set_state(status=STARTING, run_id=None, pid=None,
                                   message="starting the training worker")
            ctx = multiprocessing.get_context("spawn")
            self._proc = ctx.Process(target=run_worker, args=(spec,), name="ssvae-training-worker",
                                     daemon=True)
            self._proc.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        if self._proc is None:
            return
        if self._proc.is_alive():
            self.channel.submit({"type": "shutdown"})
            state = self.channel.state()
            if state.get("run_id") and state.get("status") in BUSY:
                self.channel.request_stop(state["run_id"])
            self._proc.join(timeout)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(5)
        self._proc = None

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The worker's state, corrected when the process has died under it."""
        state = dict(self.channel.state())
        if self._proc is not None and not self._proc.is_alive() and state.get("status") != DEAD:
            code = self._proc.exitcode
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            message = (f"the training worker stopped unexpectedly ({how}); your labels are safe, "
                       "and Start brings up a new worker from the last good checkpoint.")
            self.channel.publish_error(message, state.get("run_id"))
            if state.get("run_id") and state.get("status") in BUSY:
                self.channel.publish_run({"run_id": state["run_id"], "status": "failed",
                                          "error": message, "labels": state.get("labels"),
                                          "model": state.get("model"),
                                          "finished_at": time.time()}, new_result=False)
            state = self.channel.set_state(status=DEAD, message=message, eta_s=None)
        return state

    def busy(self) -> bool:
        return self.status().get("status") in BUSY and self.worker_alive()

    # -- commands ----------------------------------------------------------------------------
    def start_run(self, labels: Mapping[int, int], epochs: int,
                  settings: Mapping[str, Any] | None = None, restart: bool = False) -> str:
        """Submit a run on a snapshot of ``labels`` (from fresh weights with ``restart``);
        refused while another run is going."""
        state = self.status()
        queued = self.channel.last_pending_job()
        if queued is not None and queued.get("type") != "load":  # a model switch may go first
            raise TrainingRefused("a training run is already queued; wait for it to start or press Stop.")
        if self.worker_alive() and state.get("status") in BUSY and state.get("run_id"):
            raise TrainingRefused(
                f"a training run is already in progress (epoch {state.get('epoch', 0)} of "
                f"{state.get('epochs', '?')}); wait for it to finish or press Stop.")
        self.ensure_worker()
        run_id = new_run_id()
        self.channel.clear_error()
        self.channel.set_state(status=STARTING if state.get("status") in (DEAD, ERROR, STARTING)
                               else QUEUED, run_id=run_id, epoch=0, progress=0.0, eta_s=None,
                               epochs=int(epochs), labels=len(labels), message="run queued")
        self.channel.submit({"type": "train", "run_id": run_id, "epochs": int(epochs),
                             "restart": bool(restart),
                             "settings": dict(settings or {}), "submitted_at": time.time(),
                             "model": self.models.selected(),
                             "labels": sorted([int(s), int(c)] for s, c in labels.items())})
        self.submitted_labels = {int(s): int(c) for s, c in labels.items()}
        return run_id

    def load_model(self, name: str) -> None:
        """Have the worker serve model ``name`` (the page switched to it); refused while a run
        trains or is queued. A worker that is not running loads the selected model when it
        starts."""
        state = self.status()
        queued = self.channel.last_pending_job()  # an earlier switch still queued is no run
        if (queued is not None and queued.get("type") != "load") or (
                self.worker_alive() and state.get("status") in BUSY and state.get("run_id")):
            raise TrainingRefused("a training run is in progress; stop it or wait for it to "
                                  "finish before switching models.")
        if self.worker_alive():
            self.channel.submit({"type": "load", "model": name})

    def stop_run(self) -> str:
        state = self.status()
        run_id = state.get("run_id")
        if not run_id or state.get("status") not in BUSY:
            raise TrainingRefused("no training run is in progress, so there is nothing to stop.")
        self.channel.request_stop(run_id)
        self.channel.set_state(status=STOPPING, message="stopping after the current epoch")
        return run_id
