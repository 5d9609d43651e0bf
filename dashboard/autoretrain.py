"""Retrain as labels arrive: when a short warm run is due, and the panel's controls for it.

With the option on (``SetAutoRetrain``, off by default, kept in the command log), the training
panel's 1 s poll asks :meth:`AutoRetrain.due`: a run is due after ``every`` new labels since
the labels the last run was given, or — with at least one new label — once no label has
changed for ``pause_s`` seconds. The run is a ``StartTraining`` like the Train button's (same
command, same checks, same worker), for the short retrain budget of the config
(``epochs_for(..., retrain=True)``) and the panel's last settings. Never two at once: nothing
is due while the worker has a run queued or going, and the worker refuses a second one anyway.
Labeling is never blocked: the poll holds the dispatcher's lock only while it counts and
submits (milliseconds), and training runs in the worker process.
"""
from __future__ import annotations

import threading
import time

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.state import AppState
from dashboard.text import plural
from dashboard.worker.protocol import BUSY, DEAD, ERROR

#: the defaults of the option (the panel shows them until the user changes them)
DEFAULTS = {"on": False, "every": 20, "pause_s": 5.0}
MAX_EVERY = 100_000
MAX_PAUSE_S = 3600.0


def settings_of(state: AppState) -> dict:
    """The option as set (``state.training["auto"]``), with the defaults filled in."""
    return {**DEFAULTS, **(state.training.get("auto") or {})}


def label_changes(base: dict[int, int], current: dict[int, int]) -> int:
    """Images whose label differs between two snapshots (added, changed or removed)."""
    changed = sum(1 for s, c in current.items() if base.get(s) != c)
    return changed + sum(1 for s in base if s not in current)


class AutoRetrain:
    """Decides when a retrain is due; one per app (the web process), shared by its tabs."""

    def __init__(self, state: AppState):
        self.state = state
        self.lock = threading.Lock()  # one tab at a time decides and starts
        self._base: dict[int, int] | None = None
        self._untrained = 0  # labels the current model lacks, known at start-up only by count
        self._cache: tuple | None = None
        self.last_started: float | None = None
        self._init_base()

    def _init_base(self) -> None:
        """At start-up the labels of the last run are unknown: take the current ones, and count
        as new the difference from the model's label count when its fingerprint differs."""
        state = self.state
        self._base = state.labels.as_dict()
        p = state.predictions
        if p is not None and p.has_model and p.meta.get("labels_fingerprint") not in (
                None, state.labels.fingerprint()):
            self._untrained = max(1, abs(len(self._base) - int(p.meta.get("num_labels") or 0)))

    def base(self) -> dict[int, int]:
        """The labels the last run was given: the worker's last submitted snapshot, if any."""
        worker = self.state.worker
        submitted = getattr(worker, "submitted_labels", None)
        if submitted is not None and submitted is not self._base:
            self._base, self._untrained = submitted, 0
        return self._base

    def new_labels(self) -> int:
        """How many images' labels changed since the last run was given its labels."""
        base = self.base()
        key = (self.state.versions.get("labels"), id(base), self._untrained)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, label_changes(base, self.state.labels.as_dict()) + self._untrained)
        return self._cache[1]

    def last_label_change(self) -> float | None:
        h = self.state.history
        return h[-1][0] if h else None

    def blocked(self) -> str | None:
        """Why no run may start by itself now (one phrase), or None."""
        worker = self.state.worker
        if worker is None:
            return "no training worker"
        status = worker.status().get("status")
        if status in (ERROR, DEAD):
            return "the last run failed or the worker stopped; press Train to go on"
        if status in BUSY or worker.channel.has_pending_job():
            return "a run is going"
        return None

    def due(self, now: float | None = None) -> str | None:
        """Why a retrain is due now (e.g. "20 new labels"), or None."""
        opt = settings_of(self.state)
        if not opt["on"]:
            return None
        n = self.new_labels()
        if n == 0 or self.blocked():
            return None
        if n >= opt["every"]:
            return plural(n, "new label")
        last = self.last_label_change()
        now = time.time() if now is None else now
        if opt["pause_s"] > 0 and last is not None and now - last >= opt["pause_s"]:
            return f"{plural(n, 'new label')}, then a {opt['pause_s']:g} s pause"
        return None

    def status_text(self) -> str:
        opt = settings_of(self.state)
        if not opt["on"]:
            return ""
        n = self.new_labels()
        why = self.blocked()
        text = f"{plural(n, 'new label')} since the last run · the next run at {opt['every']}"
        if opt["pause_s"] > 0:
            text += f", or once labeling pauses for {opt['pause_s']:g} s"
        if why and why != "a run is going":
            text = f"retraining by itself is waiting: {why}"
        return text


def controls(state: AppState) -> html.Div:
    """The option in the training panel: a switch, N new labels, the pause in seconds."""
    opt = settings_of(state)
    number = {"type": "number", "size": "sm", "debounce": True, "class_name": "d-inline-block mx-1 auto-input"}
    return html.Div([
        html.Div([
            dbc.Switch(id="train-auto", label="Retrain as I label", value=bool(opt["on"]),
                       class_name="mb-0 me-2"),
            html.Span("every", className="text-muted"),
            dbc.Input(id="train-auto-every", value=opt["every"], min=1, max=MAX_EVERY, step=1,
                      style={"width": "5.5rem"}, **number),
            html.Span("new labels, or after a pause of", className="text-muted"),
            dbc.Input(id="train-auto-pause", value=opt["pause_s"], min=0, max=MAX_PAUSE_S, step="any",
                      style={"width": "4.5rem"}, **number),
            html.Span("s", className="text-muted"),
        ], className="d-flex align-items-center flex-wrap small"),
        html.Small(id="train-auto-status", className="text-muted d-block auto-status"),
        dcc.Store(id="seen-auto"),
    ], className="mb-2 train-auto", title="Start a short warm run by itself (off by default); "
                                          "labeling goes on meanwhile. A pause of 0 turns the pause "
                                          "trigger off.")
