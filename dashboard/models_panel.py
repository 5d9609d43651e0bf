"""The models card: the data set's models (switch, create, rename, delete with a confirmation)
and their comparison (test accuracy against labels, one line per model; each model's latest
run). The models themselves are :mod:`ssvae.models_registry`'s; every change goes through the
commands in :mod:`dashboard.commands`. :mod:`dashboard.callbacks.models` fills the card.
"""
from __future__ import annotations

import time

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from dashboard.commands.models import MODEL_CONFIGS
from dashboard.figures import GRID, _base_layout, empty_figure
from dashboard.state import AppState

#: one colour per model on the compare chart (cycled)
MODEL_COLORS = ("#198754", "#0d6efd", "#d63384", "#fd7e14", "#6f42c1", "#20c997", "#6c757d",
                "#dc3545")
#: what each config a model can be created from is, in the create dialog
CONFIG_LABELS = {"default": "default (conv classifier, normal prior)",
                 "dense": "dense classifier (the default until 2026-12-04; faster steps)",
                 "mixture": "mixture prior",
                 "current": "the selected model's config and training settings"}


def _finished_with_labels(runs: list[dict]) -> list[dict]:
    """Runs with a test accuracy that means something (a run without labels has no classifier)."""
    return [r for r in runs if isinstance(r.get("test_accuracy"), (int, float))
            and np.isfinite(r["test_accuracy"]) and isinstance(r.get("labels"), int)
            and r["labels"] > 0]


def compare_figure(runs_by_model: dict[str, list[dict]], selected: str | None = None) -> dict:
    """Test accuracy against the number of labels, one line per model (the selected one bold)."""
    traces = []
    for i, (name, runs) in enumerate(runs_by_model.items()):
        done = sorted(_finished_with_labels(runs), key=lambda r: r.get("finished_at") or 0)
        if not done:
            continue
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": name,
            "x": [r["labels"] for r in done], "y": [round(100 * r["test_accuracy"], 2) for r in done],
            "text": [f"{r.get('epochs', '?')} epochs, {r.get('status', '')}" for r in done],
            "line": {"color": MODEL_COLORS[i % len(MODEL_COLORS)], "width": 3 if name == selected else 1.5},
            "marker": {"size": 7 if name == selected else 5},
            "hovertemplate": f"{name}<br>" + "%{x} labels: %{y:.1f}%<br>%{text}<extra></extra>"})
    if not traces:
        return empty_figure("one line per model: test accuracy after each run with labels", 220)
    return {"data": traces,
            "layout": _base_layout(height=220, margin={"l": 40, "r": 10, "t": 10, "b": 36},
                                   showlegend=True, legend={"orientation": "h", "y": 1.12, "x": 0},
                                   xaxis={"title": {"text": "labels", "standoff": 4}, "gridcolor": GRID,
                                          "rangemode": "tozero"},
                                   yaxis={"title": {"text": "test accuracy %", "standoff": 4},
                                          "gridcolor": GRID})}


def _acc(run: dict | None) -> str:
    acc = (run or {}).get("test_accuracy")
    if not isinstance(acc, (int, float)) or not (run or {}).get("labels"):
        return "–"
    return f"{100 * acc:.1f}%"


def compare_table(infos: list[dict], runs_by_model: dict[str, list[dict]],
                  app_prior: str | None = None):
    """One row per model: its prior (``app_prior`` for a model without a config of its own,
    which trains with the app's) and its latest run."""
    rows = []
    for info in infos:
        runs = runs_by_model.get(info["name"], [])
        last = max(runs, key=lambda r: r.get("finished_at") or 0) if runs else None
        when = (time.strftime("%m-%d %H:%M", time.localtime(last["finished_at"]))
                if last and isinstance(last.get("finished_at"), (int, float)) else "–")
        status = "training" if info.get("training") else (last or {}).get("status", "not trained")
        rows.append(html.Tr([
            html.Td(html.B(info["name"]) if info["selected"] else info["name"]),
            html.Td(info.get("prior") or (f"{app_prior} (app's config)" if app_prior else "app's config")),
            html.Td(f"{len(runs)}"), html.Td(status), html.Td(when),
            html.Td(f"{last['labels']:,}" if last and isinstance(last.get("labels"), int) else "–"),
            html.Td(f"{last['epochs']}" if last and isinstance(last.get("epochs"), int) else "–"),
            html.Td(_acc(last)),
        ], className="table-active" if info["selected"] else None, id=f"models-row-{info['name']}"))
    head = html.Thead(html.Tr([html.Th(h) for h in ("model", "prior", "runs", "latest run",
                                                     "ended", "labels", "epochs", "test acc")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, borderless=True,
                     class_name="mb-0 small models-table")


def _modal(mid: str, title: str, body: list, ok: str, ok_color: str = "primary") -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(title)),
        dbc.ModalBody(body),
        dbc.ModalFooter([dbc.Button("Cancel", id=f"{mid}-cancel", color="link"),
                         dbc.Button(ok, id=f"{mid}-ok", color=ok_color)]),
    ], id=f"{mid}-modal", is_open=False)


def models_card(state: AppState) -> dbc.Card:
    selected = state.workspace.model
    names = state.workspace.models.names()
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.H6("Models", className="mb-0"),
            html.Span("the labels are shared by all models of this data set",
                      className="small text-muted"),
        ], className="d-flex justify-content-between align-items-baseline")),
        dbc.CardBody([
            html.Div([
                html.Div(dcc.Dropdown(id="models-select", options=names, value=selected,
                                      clearable=False, searchable=False),
                         className="models-select me-2", style={"minWidth": "14rem"}),
                dbc.ButtonGroup([
                    dbc.Button("New…", id="models-new", color="primary", outline=True, size="sm",
                               title="Create a model from a config"),
                    dbc.Button("Rename…", id="models-rename", color="secondary", outline=True, size="sm"),
                    dbc.Button("Delete…", id="models-delete", color="danger", outline=True, size="sm",
                               disabled=len(names) < 2, title="Delete the selected model"),
                ]),
            ], className="d-flex align-items-center mb-2"),
            dbc.Row([
                dbc.Col([html.Div("Test accuracy against labels, every model",
                                  className="small text-muted"),
                         dcc.Graph(id="models-compare", figure=empty_figure("", 220),
                                   config={"displayModeBar": False})], lg=5),
                dbc.Col([html.Div("Each model's latest run", className="small text-muted"),
                         html.Div(id="models-table")], lg=7),
            ], class_name="g-2"),
        ], class_name="p-3"),
        dcc.Store(id="seen-models"),
        _modal("models-create", "New model", [
            dbc.Label("Name", html_for="models-create-name"),
            dbc.Input(id="models-create-name", placeholder="e.g. mixture-16", maxLength=40,
                      debounce=False, class_name="mb-2"),
            dbc.Label("Config"),
            dbc.RadioItems(id="models-create-config", value="default",
                           options=[{"label": CONFIG_LABELS[v], "value": v} for v in MODEL_CONFIGS]),
            html.Div("The new model is untrained; select it, then press Train.",
                     className="small text-muted mt-2"),
        ], "Create"),
        _modal("models-rename-dlg", "Rename the selected model", [
            dbc.Input(id="models-rename-name", maxLength=40, debounce=False),
        ], "Rename"),
        _modal("models-delete-dlg", "Delete model", [html.Div(id="models-delete-text")],
               "Delete", "danger"),
    ], id="models-card", class_name="shadow-sm mb-3")
