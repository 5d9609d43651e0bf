"""Build the Dash app for one data set: state, dispatcher, layout and callbacks."""
from __future__ import annotations

import logging
from pathlib import Path

from dash import Dash

from ssvae.data import Dataset
from ssvae.errors import SSVAEError
from ssvae.labels import LabelStore
from ssvae.paths import PROJECT_ROOT, artifacts_root
from ssvae.predictions import Predictions

from dashboard.callbacks import Context, register_all
from dashboard.dispatcher import CommandLog, Dispatcher
from dashboard.images import ImageCache
from dashboard.layout import build_layout
from dashboard.state import AppState, Workspace

ASSETS = PROJECT_ROOT / "assets"
log = logging.getLogger(__name__)


def workspace_for(dataset: Dataset, root: str | Path | None = None) -> Workspace:
    return Workspace(Path(root) if root is not None else artifacts_root() / "workspace" / dataset.name)


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
               training_panel=None) -> Dash:
    """The labeling app. ``app.ssvae`` holds its :class:`~dashboard.callbacks.Context`.

    ``training_panel`` is the component the training worker puts in its card (issue 5); the
    worker's commands go through ``app.ssvae.dispatcher`` like every other command.
    """
    state, dispatcher = open_state(dataset, labels_path, workspace, queue_size, strategy, diverse)
    app = Dash(__name__, assets_folder=str(ASSETS), title="SSVAE Labeling", update_title=None,
               serve_locally=True)
    app.layout = lambda: build_layout(state, training_panel)
    ctx = Context(state=state, dispatcher=dispatcher, images=ImageCache(dataset.images))
    register_all(app, ctx)
    app.ssvae = ctx
    return app
