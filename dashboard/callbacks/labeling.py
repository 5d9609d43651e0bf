"""Labeling: keyboard, label buttons, remove, undo/redo, and the batch bar for map selections."""
from __future__ import annotations

from dash import ALL, Input, Output, State, ctx as dash_ctx
from dash.exceptions import PreventUpdate

from dashboard.callbacks import SESSION, need
from dashboard.commands import ClearBatch, Label, LabelBatch, Redo, RemoveLabel, Skip, Step, Undo
from dashboard.keys import key_classes, keys_summary

KEYS = {"remove": lambda s: RemoveLabel(s), "undo": lambda s: Undo(), "redo": lambda s: Redo(),
        "next": lambda s: Step(1), "prev": lambda s: Step(-1), "skip": lambda s: Skip(s)}
#: keys that act on the shown image
NEEDS_IMAGE = ("remove", "skip")


def command_for_key(key, shown, num_classes: int = 10):
    """The command a key from assets/keyboard.js stands for, or a sentence saying why none.

    Class keys are :func:`dashboard.keys.class_keys` of ``num_classes`` (0–9, then letters)."""
    classes = key_classes(num_classes)
    if isinstance(key, str) and key in classes:
        if shown is None:
            return "select an image first (click a point or a thumbnail, or press →)."
        return Label(shown, classes[key])
    if isinstance(key, str) and key in KEYS:
        if key in NEEDS_IMAGE and shown is None:
            return "select an image first."
        return KEYS[key](shown)
    shown_key = repr(key[:20] + "…") if isinstance(key, str) and len(key) > 20 else repr(key)
    return (f"key {shown_key} does nothing; use {keys_summary(num_classes)} to label, S to skip, "
            "Backspace, arrows, Space, Ctrl+Z.")


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("key-event", "data"), State("shown-serial", "data"), SESSION,
                  prevent_initial_call=True)
    def on_key(event, shown, sid):
        if not isinstance(event, dict) or "key" not in event:
            return ctx.reject("A keyboard event must be an object with a key.", "key", sid)
        cmd = command_for_key(event.get("key"), shown, len(state.class_names))
        if isinstance(cmd, str):
            return ctx.reject(cmd[0].upper() + cmd[1:], "key", sid)
        return ctx.run(cmd, sid)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input({"type": "label-btn", "index": ALL}, "n_clicks"), State("shown-serial", "data"),
                  SESSION, prevent_initial_call=True)
    def on_label_button(_clicks, shown, sid):
        trigger = dash_ctx.triggered_id
        if not dash_ctx.triggered or not dash_ctx.triggered[0].get("value"):
            raise PreventUpdate
        if shown is None:
            return ctx.reject("Select an image first.", "label", sid)
        return ctx.run(Label(shown, trigger.get("index") if isinstance(trigger, dict) else None), sid)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("remove-btn", "n_clicks"), Input("skip-btn", "n_clicks"),
                  State("shown-serial", "data"), SESSION, prevent_initial_call=True)
    def on_remove_or_skip(_n, _s, shown, sid):
        skip = dash_ctx.triggered_id == "skip-btn"
        if shown is None:
            return ctx.reject("Select an image first.", "skip" if skip else "remove_label", sid)
        return ctx.run(Skip(shown) if skip else RemoveLabel(shown), sid)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("undo-btn", "n_clicks"), Input("redo-btn", "n_clicks"), SESSION,
                  prevent_initial_call=True)
    def on_undo_redo(_u, _r, sid):
        return ctx.run(Undo() if dash_ctx.triggered_id == "undo-btn" else Redo(), sid)

    @app.callback(Output("undo-btn", "disabled"), Output("redo-btn", "disabled"),
                  Output("undo-btn", "title"), Output("redo-btn", "title"), Output("seen-history", "data"),
                  Input("versions", "data"), State("seen-history", "data"), SESSION)
    def render_history(_versions, seen, sid):
        with ctx.session(sid):
            need(state, seen, ("labels",))
            u, r = state.undo_stack, state.redo_stack
            return (not u, not r,
                    f"Undo: {u[-1].get('message', '')} (Ctrl+Z)" if u else "Nothing to undo",
                    f"Redo: {r[-1].get('message', '')} (Ctrl+Shift+Z)" if r else "Nothing to redo",
                    {"labels": state.versions["labels"]})

    # -- batch labeling of a box / lasso selection --------------------------------------------
    @app.callback(Output("batch-bar", "className"), Output("batch-count", "children"),
                  Output("seen-batch", "data"),
                  Input("versions", "data"), State("seen-batch", "data"), SESSION)
    def render_batch(_versions, seen, sid):
        with ctx.session(sid):
            need(state, seen, ("batch",))
            n = len(state.batch)
            return ("batch-bar" if n else "batch-bar d-none",
                    f"{n:,} selected", {"batch": state.versions["batch"]})

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input({"type": "batch-label", "index": ALL}, "n_clicks"), SESSION,
                  prevent_initial_call=True)
    def on_batch_label(_clicks, sid):
        trigger = dash_ctx.triggered_id
        if not dash_ctx.triggered or not dash_ctx.triggered[0].get("value"):
            raise PreventUpdate
        return ctx.run(LabelBatch(trigger.get("index") if isinstance(trigger, dict) else None), sid)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("batch-clear", "n_clicks"), SESSION, prevent_initial_call=True)
    def on_batch_clear(_n, sid):
        return ctx.run(ClearBatch(), sid)
