"""Build the Dash app for one data set: state, dispatcher, layout and callbacks."""
from __future__ import annotations

import logging
from pathlib import Path

from dash import Dash

from ssvae.data import Dataset
from ssvae.errors import SSVAEError
from ssvae.labels import LabelStore
from ssvae.predictions import Predictions
from ssvae.schedule import epochs_for
from ssvae.workspace import model_dir

from dashboard.callbacks import Context, register_all
from dashboard.dispatcher import CommandLog, Dispatcher
from dashboard.images import ImageCache
from dashboard.layout import build_layout
from dashboard.state import AppState, Workspace

ASSETS = Path(__file__).resolve().parent / "assets"  # package data, shipped in the wheel
log = logging.getLogger(__name__)


def workspace_for(dataset: Dataset, root: str | Path | None = None) -> Workspace:
    """The page's folder for ``dataset``: by default the folder of the data set's current model."""
    return Workspace(Path(root) if root is not None else model_dir(dataset.name))


def open_state(dataset: Dataset, labels_path: str | Path | None = None,
               workspace: str | Path | Workspace | None = None, queue_size: int = 20,
               strategy: str | None = None, diverse: bool | None = None) -> tuple[AppState, Dispatcher]:
    """Load labels, the newest predictions snapshot and the command log of a workspace."""
    ws = workspace if isinstance(workspace, Workspace) else workspace_for(dataset, workspace)
    ws.root.mkdir(parents=True, exist_ok=True)
    store = LabelStore.for_dataset(dataset, labels_path)
    state = AppState(dataset=dataset, labels=store, workspace=ws, queue_size=queue_size)
    if strategy:
        state.strategy = strategy
    if diverse is not None:
        state.diverse = diverse
    if ws.predictions.exists():
        try:
            preds = Predictions.load(ws.predictions)
            if preds.fits(dataset.size, dataset.num_classes):
                state.predictions = preds
                state.predictions_mtime = ws.predictions.stat().st_mtime
            else:
                log.warning("%s does not fit the data set; the map waits for a new training",
                            ws.predictions)
        except SSVAEError as exc:
            log.warning("%s", exc)
    dispatcher = Dispatcher(state, CommandLog(ws.command_log))
    dispatcher.restore()
    if state.selected is None and len(state.queue()):
        state.selected = int(state.queue()[0])
    return state, dispatcher


def create_app(dataset: Dataset, labels_path: str | Path | None = None,
               workspace: str | Path | Workspace | None = None, *, queue_size: int = 20,
               strategy: str | None = None, diverse: bool | None = None,
               worker=None) -> Dash:
    """The labeling app. ``app.ssvae`` holds its :class:`~dashboard.callbacks.Context`.

    ``worker`` is a :class:`~dashboard.worker.service.TrainingService` on the same workspace
    (the training panel drives it); it is started here, so the model is warm by the first
    click, and with no model's snapshot yet (none, or a map-only one) it trains a first model
    right away.
    """
    state, dispatcher = open_state(dataset, labels_path, workspace, queue_size, strategy, diverse)
    if worker is not None:
        start_worker(state, worker)
    app = Dash(__name__, assets_folder=str(ASSETS), title="SSVAE Labeling", update_title=None,
               serve_locally=True)
    app.layout = lambda: build_layout(state)
    ctx = Context(state=state, dispatcher=dispatcher, images=ImageCache(dataset.images))
    register_all(app, ctx)
    app.ssvae = ctx
    return app


def start_worker(state: AppState, worker) -> None:
    """Bring the training worker up; with no model output yet, start the first training."""
    if Path(worker.workspace).resolve() != state.workspace.root.resolve():
        raise SSVAEError(f"the training worker's workspace {worker.workspace} is not the page's "
                         f"{state.workspace.root}.")
    state.worker = worker
    worker.ensure_worker()
    if not state.has_model:  # none, or only the map of the images
        from dashboard.worker.service import TrainingRefused

        epochs = epochs_for(state.dataset.size, worker.config)
        try:
            run_id = worker.start_run(state.labels.as_dict(), epochs)
        except TrainingRefused:  # a run is already going (another page of this workspace)
            return
        state.training["run_id"] = run_id
        log.info("no predictions yet: training a first model (%d epochs, run %s)", epochs, run_id)
