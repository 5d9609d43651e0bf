"""The mixture-prior card: π per component and the component × class table.

Redrawn when a new predictions snapshot arrives (after every run) and when the labels change
(the table counts labeled images); hidden for a model with the normal prior.
"""
from __future__ import annotations

from dash import Input, Output, Patch, State, no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks import need
from dashboard.figures import component_palette, empty_figure, mixture_weights_figure, tied_mixture
from dashboard.mixture import (component_names, component_table, expects_mixture, row_digest,
                               summary_text, table_row, table_view, unclaimed_classes)

PARTS = ("predictions", "labels")
CARD = "shadow-sm mb-3"


def render(state, seen: dict | None = None):
    """(card class, summary, notice, body class, π figure, table, row digests). With ``seen``
    (what the tab drew) and no new snapshot, π stays and the table is a Patch of the rows
    whose counts or flags moved (a label moves one row, not the whole table)."""
    p = state.predictions
    if p is None or not p.has_mixture:
        if not expects_mixture(state):
            return CARD + " d-none", "", "not a mixture model", "d-none", no_update, [], []
        return (CARD, "", "The mixture weights and components appear after the model's first "
                "training run.", "d-none", empty_figure("", 210), [], [])
    tied = tied_mixture(state)
    rows = component_table(p.component, p.mixture_weights, state.labels.as_array(),
                           len(state.class_names), tied)
    digests = [row_digest(r) for r in rows]
    summary = summary_text(rows)
    if p.meta.get("epoch") is not None:
        summary += f" · after epoch {p.meta['epoch']}"
    notice = ("" if state.labels.as_array().max(initial=-1) >= 0 else
              "No labeled images yet: label some to see which component stands for which class.")
    orphans = unclaimed_classes(rows, len(state.class_names))
    if orphans:
        notice = ("No component stands for class " + ", ".join(state.class_names[c] for c in orphans)
                  + ": its labeled images sit in components that stand for other classes.")
    drawn = (seen or {}).get("rows")
    if seen is not None and seen.get("predictions") == state.versions["predictions"] \
            and isinstance(drawn, list) and len(drawn) == len(rows):
        names, colors = component_names(state), component_palette(len(rows), tied)
        table = Patch()
        for c, (old, new) in enumerate(zip(drawn, digests)):
            if old != new:  # the Table's children: [thead, tbody]; tbody's: one Tr per component
                table["props"]["children"][1]["props"]["children"][c] = table_row(
                    state, rows[c], names[c], colors[c])
        return CARD, summary, notice, "g-2", no_update, table, digests
    colors = component_palette(len(rows), tied)
    return (CARD, summary, notice, "g-2",
            mixture_weights_figure(p.mixture_weights, component_names(state), colors),
            table_view(state, rows), digests)


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("mixture-card", "class_name"), Output("mixture-summary", "children"),
                  Output("mixture-notice", "children"), Output("mixture-body", "className"),
                  Output("mixture-weights", "figure"), Output("mixture-table", "children"),
                  Output("seen-mixture", "data"),
                  Input("versions", "data"), State("seen-mixture", "data"))
    def render_mixture(_versions, seen):
        with ctx.lock:
            moved = need(state, seen, PARTS)
            if moved is not None and "predictions" not in moved and not state.has_mixture:
                raise PreventUpdate  # no table to recount
            card, summary, notice, body, figure, table, digests = render(
                state, seen if moved is not None else None)
            seen_now = {**{p: state.versions[p] for p in PARTS}, "rows": digests}
            return card, summary, notice, body, figure, table, seen_now
