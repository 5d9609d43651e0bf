"""Labeling: keyboard, label buttons, remove, undo/redo, and the batch bar for map selections."""
from __future__ import annotations

from dash import ALL, Input, Output, State, ctx as dash_ctx
from dash.exceptions import PreventUpdate

from dashboard.callbacks import need
from dashboard.commands import ClearBatch, Label, LabelBatch, Redo, RemoveLabel, Step, Undo

KEYS = {"remove": lambda s: RemoveLabel(s), "undo": lambda s: Undo(), "redo": lambda s: Redo(),
        "next": lambda s: Step(1), "prev": lambda s: Step(-1)}


DIGITS = "0123456789"  # str.isdigit() also takes '²' and '٣', which int() refuses


def command_for_key(key, shown):
    """The command a key from assets/keyboard.js stands for, or a sentence saying why none."""
    if isinstance(key, str) and len(key) == 1 and key in DIGITS:
        if shown is None:
            return "select an image first (click a point or a thumbnail, or press →)."
        return Label(shown, int(key))
    if isinstance(key, str) and key in KEYS:
        if key == "remove" and shown is None:
            return "select an image first."
        return KEYS[key](shown)
    shown_key = repr(key)
    shown_key = shown_key if len(shown_key) <= 24 else shown_key[:20] + "…"
    return f"key {shown_key} does nothing; use 0–9, Backspace, arrows, Space, Ctrl+Z."


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("key-event", "data"), State("shown-serial", "data"), prevent_initial_call=True)
    def on_key(event, shown):
        if not isinstance(event, dict) or "key" not in event:
            return ctx.reject("a keyboard event must be an object with a key.", "key")
        cmd = command_for_key(event.get("key"), shown)
        if isinstance(cmd, str):
            return ctx.reject(cmd[0].upper() + cmd[1:], "key")
        return ctx.run(cmd)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input({"type": "label-btn", "index": ALL}, "n_clicks"), State("shown-serial", "data"),
                  prevent_initial_call=True)
    def on_label_button(_clicks, shown):
        trigger = dash_ctx.triggered_id
        if not dash_ctx.triggered or not dash_ctx.triggered[0].get("value"):
            raise PreventUpdate
        if shown is None:
            return ctx.reject("Select an image first.", "label")
        return ctx.run(Label(shown, trigger.get("index") if isinstance(trigger, dict) else None))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("remove-btn", "n_clicks"), State("shown-serial", "data"), prevent_initial_call=True)
    def on_remove(_n, shown):
        if shown is None:
            return ctx.reject("Select an image first.", "remove_label")
        return ctx.run(RemoveLabel(shown))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("undo-btn", "n_clicks"), Input("redo-btn", "n_clicks"), prevent_initial_call=True)
    def on_undo_redo(_u, _r):
        return ctx.run(Undo() if dash_ctx.triggered_id == "undo-btn" else Redo())

    @app.callback(Output("undo-btn", "disabled"), Output("redo-btn", "disabled"),
                  Output("undo-btn", "title"), Output("redo-btn", "title"), Output("seen-history", "data"),
                  Input("versions", "data"), State("seen-history", "data"))
    def render_history(_versions, seen):
        with ctx.lock:
            need(state, seen, ("labels",))
            u, r = state.undo_stack, state.redo_stack
            return (not u, not r,
                    f"Undo: {u[-1].get('message', '')} (Ctrl+Z)" if u else "Nothing to undo",
                    f"Redo: {r[-1].get('message', '')} (Ctrl+Shift+Z)" if r else "Nothing to redo",
                    {"labels": state.versions["labels"]})

    # -- batch labeling of a box / lasso selection --------------------------------------------
    @app.callback(Output("batch-bar", "className"), Output("batch-count", "children"),
                  Output("seen-batch", "data"),
                  Input("versions", "data"), State("seen-batch", "data"))
    def render_batch(_versions, seen):
        with ctx.lock:
            need(state, seen, ("batch",))
            n = len(state.batch)
            return ("batch-bar" if n else "batch-bar d-none",
                    f"{n:,} selected", {"batch": state.versions["batch"]})

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input({"type": "batch-label", "index": ALL}, "n_clicks"), prevent_initial_call=True)
    def on_batch_label(_clicks):
        trigger = dash_ctx.triggered_id
        if not dash_ctx.triggered or not dash_ctx.triggered[0].get("value"):
            raise PreventUpdate
        return ctx.run(LabelBatch(trigger.get("index") if isinstance(trigger, dict) else None))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("batch-clear", "n_clicks"), prevent_initial_call=True)
    def on_batch_clear(_n):
        return ctx.run(ClearBatch())
