"""The page, built from small functions; ids are the contract with :mod:`dashboard.callbacks`."""
from __future__ import annotations

import dash_bootstrap_components as dbc
import uuid

from dash import dcc, html

from dashboard.autoretrain import controls as auto_retrain_controls
from dashboard.commands import TRAIN_SETTINGS
from dashboard.figures import accuracy_figure, curves_figure, empty_figure
from dashboard.keys import class_keys, keys_summary
from dashboard.mixture import mixture_card
from dashboard.models_panel import models_card
from dashboard.state import COLOR_MODES, COLOR_NAMES, STRATEGY_NAMES, AppState
from ssvae.schedule import epochs_for

GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True,
                "modeBarButtonsToRemove": ["toImage", "autoScale2d"]}
SMALL_GRAPH_CONFIG = {"displayModeBar": False}
TICK_MS = 2000
TRAIN_TICK_MS = 1000  # the training panel polls the worker's progress this often


def stores() -> list:
    """Client-side stores: event pipes from the keyboard script and what each part last drew."""
    return [
        # this tab's own session (selection, undo, redo): one id per tab, kept over reloads
        dcc.Store(id="session-id", storage_type="session", data=uuid.uuid4().hex),
        dcc.Store(id="versions"),        # latest server version counters known to this tab
        dcc.Store(id="result"),          # outcome of this tab's last command (message, versions)
        # what changed without a command of this tab (the refresh tick, the training panel):
        # its own store, so a tick never replaces a command's result before it is shown
        dcc.Store(id="update"),
        dcc.Store(id="key-event"),       # written by assets/keyboard.js
        dcc.Store(id="ui-event"),        # clicks on queue thumbnails (assets/keyboard.js)
        dcc.Store(id="shown-serial"),    # the image this tab shows as selected
        dcc.Store(id="seen-map"), dcc.Store(id="seen-queue"), dcc.Store(id="seen-selected"),
        dcc.Store(id="seen-stats"), dcc.Store(id="seen-history"), dcc.Store(id="seen-batch"),
        dcc.Store(id="import-pending"),
        dcc.Store(id="hover-point"),     # the map point whose card the tooltip should show
        dcc.Store(id="hover-shown"),     # the Serial whose card the tooltip holds
        dcc.Interval(id="tick", interval=TICK_MS),
        dcc.Download(id="download"),
        dcc.Download(id="download-predictions"),
    ]


def navbar(state: AppState) -> dbc.Navbar:
    ds = state.dataset
    return dbc.Navbar(
        dbc.Container([
            html.Div([
                html.Span("◆", className="brand-mark"),
                dbc.NavbarBrand("SSVAE Labeling", className="ms-2 me-3"),
                dbc.Badge(f"{ds.name} · {ds.size:,} images · {ds.num_classes} classes",
                          color="light", text_color="dark", className="dataset-badge", id="dataset-badge"),
            ], className="d-flex align-items-center"),
            html.Div([
                dbc.ButtonGroup([
                    dbc.Button("↶ Undo", id="undo-btn", color="light", size="sm", disabled=True,
                               title="Undo (Ctrl+Z)"),
                    dbc.Button("↷ Redo", id="redo-btn", color="light", size="sm", disabled=True,
                               title="Redo (Ctrl+Shift+Z)"),
                ], className="me-2"),
                dcc.Upload(dbc.Button("Import labels…", color="light", size="sm", outline=False),
                           id="upload", accept=".csv,text/csv", multiple=False, className="d-inline-block me-2"),
                dbc.Button("⬇ labels.csv", id="export-btn", color="primary", size="sm",
                           title="Download the current labels.csv"),
                dbc.Button("⬇ predictions.csv", id="export-predictions-btn", color="primary",
                           size="sm", class_name="ms-2", disabled=True,
                           title="No predictions yet: train a model first"),
                html.Button("◐", id="theme-btn", className="btn btn-sm btn-outline-light ms-2 theme-btn",
                            title="Light or dark theme"),
                html.Button("?", id="help-btn", className="btn btn-sm btn-outline-light ms-2 help-btn",
                            title="Keyboard shortcuts"),
            ], className="d-flex align-items-center"),
        ], fluid=True),
        color="dark", dark=True, className="app-navbar mb-3",
    )


def message_area() -> html.Div:
    return html.Div(dbc.Alert(id="message", is_open=False, dismissable=True, fade=False,
                              className="action-message shadow"), className="message-dock")


def color_control(state: AppState) -> dbc.RadioItems:
    options = [{"label": COLOR_NAMES[m], "value": m,
                "disabled": (m == "truth" and not state.dataset.has_truth)} for m in COLOR_MODES
               if m != "component" or state.has_mixture]
    return dbc.RadioItems(id="color-by", options=options, value=state.color_by, inline=True,
                          input_class_name="btn-check", label_class_name="btn btn-sm btn-outline-secondary",
                          label_checked_class_name="active", class_name="btn-group color-by")


def batch_bar(state: AppState) -> html.Div:
    buttons = [dbc.Button(name, id={"type": "batch-label", "index": i}, size="sm", outline=True,
                          color="secondary", class_name=f"label-btn cls-{i % 10}")
               for i, name in enumerate(state.class_names)]
    return html.Div([
        html.Span(id="batch-count", className="me-2 fw-semibold"),
        html.Span("label all as", className="me-2 text-muted"),
        html.Div(buttons, className="class-buttons d-inline-flex flex-wrap"),
        dbc.Button("Clear", id="batch-clear", size="sm", color="link", class_name="ms-1"),
    ], id="batch-bar", className="batch-bar d-none")


def map_card(state: AppState) -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.Div([html.H6("Latent map", className="mb-0 me-3"),
                      html.Small(id="map-caption", className="text-muted")],
                     className="d-flex align-items-baseline"),
            html.Div(color_control(state), id="color-by-wrap"),
        ], className="d-flex justify-content-between align-items-center flex-wrap gap-2")),
        dbc.CardBody([
            batch_bar(state),
            html.Div([
                html.Div(id="map-notice", className="d-none"),
                dcc.Graph(id="map", figure=empty_figure(""), config=GRAPH_CONFIG, className="map-graph",
                          clear_on_unhover=True, responsive=True),
                dcc.Tooltip(id="map-tooltip", className="map-tooltip", direction="right", loading_text=""),
                html.Div([
                    html.Div("◆", className="placeholder-mark"),
                    html.H5("The map appears here shortly"),
                    html.P(("The training worker is preparing it (progress under Training, below). "
                            if state.worker is not None else
                            "This app runs without a training worker: the map appears when a "
                            "predictions snapshot is written to its workspace. ")
                           + "Label a few images from the queue on the right meanwhile — they are "
                           "shown in random order until a model exists.", className="text-muted mb-0"),
                ], id="map-placeholder", className="map-placeholder d-none"),
            # the waiting class goes on this wrapper, never on the dcc.Graph: the graph
            # re-renders only when its id or style changes, so a new className on it would
            # stay unapplied until a reload (the blank map of issue 10)
            ], id="map-wrap", className="map-wrap"),
            html.Div(id="map-legend", className="map-legend"),
        ], class_name="p-2"),
    ], class_name="shadow-sm map-card")


def label_buttons(state: AppState) -> html.Div:
    """A button per class with its key (:mod:`dashboard.keys`); ``data-keys`` tells
    assets/keyboard.js which letters label a class on this page."""
    keys = class_keys(len(state.class_names))
    buttons = []
    for i, (name, key) in enumerate(zip(state.class_names, keys)):
        shown_key = "" if not key or key == name else ("⇧" + key if key.isupper() else key)
        buttons.append(dbc.Button(
            [html.Span(name, className="class-name"), html.Kbd(shown_key, className="ms-1") if shown_key else None],
            id={"type": "label-btn", "index": i}, size="sm", outline=True, color="secondary",
            class_name=f"label-btn cls-{i % 10}",
            title=f"Label as {name}" + (f" (key {key_label(key)})" if key else "")))
    return html.Div(buttons, id="label-buttons", className="label-buttons",
                    **{"data-keys": "".join(k for k in keys if k)})


def key_label(key: str) -> str:
    return f"Shift+{key}" if key.isupper() else key


def selected_card(state: AppState) -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.H6("Selected image", className="mb-0"),
            html.Span(id="sel-title", className="text-muted small"),
        ], className="d-flex justify-content-between align-items-baseline")),
        dbc.CardBody([
            dbc.Row([
                dbc.Col(html.Figure([html.Img(id="sel-image", className="pixel-image", alt="selected image"),
                                     html.Figcaption("image")], className="image-figure"), width=4),
                dbc.Col(html.Figure([html.Img(id="sel-recon", className="pixel-image", alt="reconstruction"),
                                     html.Figcaption("reconstruction", id="sel-recon-caption")],
                                    className="image-figure"), width=4),
                dbc.Col(html.Div([
                    html.Div("Current label", className="small text-muted"),
                    html.Div(id="sel-label", className="current-label"),
                    html.Div(id="sel-pred", className="small text-muted mt-1"),
                ], className="label-box"), width=4),
            ], class_name="g-2 align-items-center"),
            dcc.Graph(id="sel-probs", figure=empty_figure("", 190), config=SMALL_GRAPH_CONFIG,
                      className="probs-graph"),
            label_buttons(state),
            html.Div([
                html.Div([
                    dbc.Button("Skip", id="skip-btn", size="sm", color="secondary", outline=True,
                               class_name="me-2",
                               title="Set this image aside: not a class, out of the queue (S)"),
                    dbc.Button("Remove label", id="remove-btn", size="sm", color="link",
                               class_name="px-0 text-danger", title="Remove the label or skip (Backspace/Delete)"),
                ], className="d-flex align-items-center"),
                html.Small(["keys ", html.Kbd(keys_summary(len(state.class_names))), " label · ",
                            html.Kbd("S"), " skip · ", html.Kbd("⌫"), " remove · ",
                            html.Kbd("←"), html.Kbd("→"), " / ", html.Kbd("Space"), " move · ",
                            html.Kbd("Ctrl+Z"), " undo"], className="text-muted keys-hint"),
            ], className="d-flex justify-content-between align-items-center mt-1"),
        ], class_name="p-3"),
    ], class_name="shadow-sm mb-3")


def queue_card(state: AppState) -> dbc.Card:
    options = [{"label": STRATEGY_NAMES[s], "value": s} for s in STRATEGY_NAMES]
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.H6("Queue", className="mb-0 me-2"),
            html.Small(id="queue-caption", className="text-muted me-auto"),
            dbc.Select(id="strategy", options=options, value=state.strategy, size="sm",
                       class_name="strategy-select"),
        ], className="d-flex align-items-center gap-2")),
        dbc.CardBody([
            html.Div(id="queue-reason", className="queue-reason mb-2"),
            html.Div([
                dbc.Switch(id="diverse", label="diverse batch", value=state.diverse,
                           class_name="me-3 mb-0"),
                dbc.Switch(id="auto-advance", label="advance after labeling",
                           value=state.auto_advance, class_name="mb-0"),
            ], className="d-flex small mb-2"),
            html.Div(id="queue", className="queue-grid"),
        ], class_name="p-3"),
    ], class_name="shadow-sm")


def progress_bar(pid: str, bar_class: str, wrap_class: str) -> html.Div:
    """A progress bar with its own text (``{pid}-text``) centred over the whole bar, readable at
    any fill (a dbc.Progress label lives inside the filled part and vanishes when that is short)."""
    return html.Div([dbc.Progress(id=pid, value=0, class_name=bar_class),
                     html.Span(id=f"{pid}-text", className="progress-text")],
                    className=f"progress-wrap {wrap_class}")


def stats_card(state: AppState) -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader(html.Div([html.H6("Statistics", className="mb-0"),
                                 html.Span(id="stats-summary", className="small text-muted")],
                                className="d-flex justify-content-between align-items-baseline")),
        dbc.CardBody([
            progress_bar("stats-progress", "stats-progress", "mb-3"),
            dbc.Row([
                dbc.Col([html.Div("Labels per class", className="small text-muted"),
                         dcc.Graph(id="stats-classes", figure=empty_figure("", 200), config=SMALL_GRAPH_CONFIG)], md=6),
                dbc.Col([html.Div("Labels over time", className="small text-muted"),
                         dcc.Graph(id="stats-history", figure=empty_figure("", 200), config=SMALL_GRAPH_CONFIG)], md=6),
            ], class_name="g-2"),
        ], class_name="p-3"),
    ], class_name="shadow-sm h-100")


def training_panel(state: AppState) -> html.Div:
    """Settings, Start/Stop, progress with ETA, live loss curves, run history and accuracy."""
    defaults = state.worker.config.train
    remembered = state.training.get("settings", {})
    retrain = epochs_for(state.dataset.size, state.worker.config, retrain=True)
    fields = [("epochs", "Epochs", state.training.get("epochs", retrain), 1)]
    fields += [(key, label, remembered.get(key, getattr(defaults, key)), 1 if kind is int else "any")
               for key, label, kind in TRAIN_SETTINGS]
    form = dbc.Row([
        dbc.Col([dbc.Label(label, html_for=f"train-{key}", class_name="small text-muted mb-0"),
                 dbc.Input(id=f"train-{key}", type="number", value=value, step=step, size="sm",
                           debounce=True)], xs=6, md=4, class_name="mb-2")
        for key, label, value, step in fields], class_name="g-2 train-form")
    return html.Div([
        dcc.Interval(id="train-tick", interval=TRAIN_TICK_MS),
        dcc.Store(id="seen-training"),
        form,
        html.Div([
            dbc.Button("▶ Train", id="train-start", color="success", size="sm", class_name="me-2",
                       title="Continue training the model on the current labels"),
            dbc.Button("■ Stop", id="train-stop", color="danger", outline=True, size="sm",
                       disabled=True, title="Stop after the current step; finished epochs are kept"),
            html.Small(id="train-status", className="text-muted ms-3 train-status"),
        ], className="d-flex align-items-center mb-2"),
        auto_retrain_controls(state),
        progress_bar("train-progress", "train-progress", "mb-2"),
        dbc.Alert(id="train-error", color="danger", is_open=False, class_name="small py-2 mb-2"),
        dcc.Graph(id="train-curves", figure=curves_figure([]), config=SMALL_GRAPH_CONFIG),
        dbc.Row([
            dbc.Col([html.Div("Runs", className="small text-muted"),
                     html.Div(id="train-history", className="train-history")], md=8),
            dbc.Col([html.Div("Test accuracy against labels", className="small text-muted"),
                     dcc.Graph(id="train-accuracy", figure=accuracy_figure([]), config=SMALL_GRAPH_CONFIG)],
                    md=4),
        ], class_name="g-2 mt-1"),
    ])


def training_card(state: AppState) -> dbc.Card:
    if state.worker is not None:
        body = training_panel(state)
    else:
        body = html.P("This app was started without a training worker; the map refreshes when a "
                      f"predictions snapshot is written to {state.workspace.predictions}.",
                      className="small text-muted mb-0")
    return dbc.Card([dbc.CardHeader(html.Div([
                         html.H6("Training", className="mb-0"),
                         dbc.Badge("", id="train-badge", color="secondary", class_name="train-badge"),
                     ], className="d-flex justify-content-between align-items-center")),
                     dbc.CardBody(body, id="training-panel", class_name="p-3")],
                    class_name="shadow-sm h-100")


def import_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Import labels")),
        dbc.ModalBody(id="import-summary"),
        dbc.ModalFooter([
            dbc.Button("Cancel", id="import-cancel", color="link"),
            dbc.Button("Import, take theirs on conflict", id="import-theirs", color="warning", outline=True),
            dbc.Button("Import, keep mine on conflict", id="import-ours", color="primary"),
        ]),
    ], id="import-modal", is_open=False, size="lg")


def help_modal(state: AppState) -> dbc.Modal:
    rows = [(keys_summary(len(state.class_names)),
             "label the selected image with that class (each class button shows its key)"),
            ("S", "skip: set the image aside (not a class, out of the queue)"),
            ("Backspace / Delete", "remove its label or its skip"),
            ("→ ↓ Space", "next image in the queue"), ("← ↑ Shift+Space", "previous image"),
            ("Ctrl+Z", "undo"), ("Ctrl+Shift+Z / Ctrl+Y", "redo")]
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Keyboard")),
        dbc.ModalBody(dbc.Table([html.Tbody([html.Tr([html.Td(html.Kbd(k)), html.Td(v)]) for k, v in rows])],
                                borderless=True, size="sm", class_name="mb-0")),
    ], id="help-modal", is_open=False)


def build_layout(state: AppState):
    return html.Div([
        *stores(),
        navbar(state),
        message_area(),
        dbc.Container([
            dbc.Row([
                dbc.Col(map_card(state), lg=7, class_name="mb-3"),
                dbc.Col([selected_card(state), queue_card(state)], lg=5, class_name="mb-3"),
            ], class_name="g-3"),
            dbc.Row([
                dbc.Col(stats_card(state), lg=5, class_name="mb-3"),
                dbc.Col(training_card(state), lg=7, class_name="mb-3"),
            ], class_name="g-3"),
            models_card(state),
            mixture_card(state),
        ], fluid=True, class_name="app-body"),
        import_modal(),
        help_modal(state),
    ], className="app-root")
