"""Build the Dash app for one data set: state, dispatcher, layout and callbacks."""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Collection
from pathlib import Path

from dash import Dash
from flask import request
from werkzeug.exceptions import HTTPException

from ssvae.data import Dataset
from ssvae.errors import SSVAEError
from ssvae.labels import LabelStore
from ssvae.predictions import Predictions
from ssvae.schedule import epochs_for
from ssvae.workspace import dataset_dir

from dashboard.callbacks import Context, register_all
from dashboard.dispatcher import CommandLog, Dispatcher
from dashboard.images import ImageCache
from dashboard.layout import build_layout
from dashboard.state import AppState, Workspace

ASSETS = Path(__file__).resolve().parent / "assets"  # package data, shipped in the wheel
log = logging.getLogger(__name__)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
MAX_REQUEST_BYTES = 128 * 1024 * 1024  # the largest labels.csv upload (20 MB) fits in base64


def workspace_for(dataset: Dataset, root: str | Path | None = None) -> Workspace:
    """The page's folder for ``dataset``: by default the data set's folder (its models inside)."""
    return Workspace(Path(root) if root is not None else dataset_dir(dataset.name))


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
               worker=None, allowed_hosts: Collection[str] | None = LOOPBACK_NAMES) -> Dash:
    """The labeling app. ``app.ssvae`` holds its :class:`~dashboard.callbacks.Context`.

    ``allowed_hosts``: the host names a request's ``Host`` header may carry (any port); others
    are refused, so a web page on another site cannot reach the app through DNS rebinding.
    None accepts any (an app served on every interface: see :func:`allowed_hosts_for`).

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
    guard_requests(app, allowed_hosts)
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


# -- what the web server accepts ---------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """Whether binding ``host`` lets only this machine connect."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts_for(host: str) -> tuple[str, ...] | None:
    """The ``Host`` header names to accept when the app binds ``host``: the loopback names
    (and ``host`` itself) for a loopback or named address; None (any) for every interface
    (``0.0.0.0``, ``::``), where the names the machine is reached by cannot be known."""
    name = host.strip().strip("[]").lower()
    if name in ("0.0.0.0", "::", ""):
        return None
    return tuple(dict.fromkeys((*LOOPBACK_NAMES, name)))


def exposure_warnings(host: str, debug: bool) -> list[str]:
    """One sentence per way the command line exposes the app beyond this machine's user."""
    out = []
    if not is_loopback(host):
        out.append(f"warning: --host {host} lets other machines reach the page, which has no "
                   "login: anyone who can connect can read and change the labels.")
    if debug:
        out.append("warning: --debug serves Werkzeug's interactive debugger, which runs any "
                   "Python code a visitor types; use it only on a machine you alone can reach.")
    return out


def request_host(header: str) -> str:
    """The host name of a ``Host`` header, without port, brackets or a final dot, lower case."""
    h = header.strip().lower()
    if h.startswith("["):
        name = h[1:h.find("]")] if "]" in h else h[1:]
    else:
        name = h.rsplit(":", 1)[0] if h.count(":") == 1 else h
    return name.rstrip(".")


def _is_spec(item) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("property"), str)
            and isinstance(item.get("id"), (str, dict)))


def _is_spec_or_specs(item) -> bool:  # a pattern-matching (ALL) input is a list of specs
    return _is_spec(item) or (isinstance(item, list) and all(_is_spec(i) for i in item))


def callback_body_problem(body, callback_map: dict) -> str | None:
    """Why ``body`` is not a callback request of this page (the JSON the Dash renderer posts
    to ``/_dash-update-component``), or None."""
    if not isinstance(body, dict):
        return f"the request body must be a JSON object, not {type(body).__name__}."
    output = body.get("output")
    cb = callback_map.get(output) if isinstance(output, str) else None
    if cb is None or "callback" not in cb:
        return "the request names no server callback of this page in 'output'."
    for key, expected in (("inputs", cb.get("inputs", [])), ("state", cb.get("state", []))):
        items = body.get(key, [])
        if not isinstance(items, list) or len(items) != len(expected) \
                or not all(_is_spec_or_specs(i) for i in items):
            return (f"the request's '{key}' must be a list of {len(expected)} "
                    "{id, property, value} objects.")
    outputs, declared = body.get("outputs"), cb.get("output")
    if isinstance(declared, list):
        ok = (isinstance(outputs, list) and len(outputs) == len(declared)
              and all(_is_spec_or_specs(o) for o in outputs))
    else:
        ok = _is_spec_or_specs(outputs)
    if not ok:
        return "the request's 'outputs' do not match the callback's outputs."
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "the request's 'changedPropIds' must be a list of strings."
    return None


def guard_requests(app: Dash, allowed_hosts: Collection[str] | None) -> None:
    """Refuse, with one sentence and before any callback runs, requests from a foreign
    ``Host``, oversized bodies and callback requests that are not what the page sends; an
    error inside a callback answers one sentence too (the traceback goes to the log)."""
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    allowed = None if allowed_hosts is None else {request_host(h) for h in allowed_hosts}

    def refuse(status: int, message: str):
        text = message[:1].upper() + message[1:]
        return text + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}

    @server.before_request
    def _check_request():
        if allowed is not None and request_host(request.headers.get("Host", "")) not in allowed:
            return refuse(403, "this page answers only to requests for "
                               f"{', '.join(sorted(allowed))}; the Host header names another "
                               "server.")
        if request.method == "POST" and request.path.endswith("/_dash-update-component"):
            body = request.get_json(silent=True)
            if body is None:
                return refuse(400, "the request body must be JSON.")
            problem = callback_body_problem(body, app.callback_map)
            if problem:
                return refuse(400, problem)
        return None

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return refuse(exc.code or 500, f"{exc.name}: {exc.description}")

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.error("%s %s failed (%s: %s)", request.method, request.path, type(exc).__name__,
                  str(exc)[:200], exc_info=exc)
        return refuse(500, f"the server could not handle this request ({type(exc).__name__}); "
                           "the server's log holds the details.")
