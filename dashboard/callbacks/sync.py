"""Keeping tabs in step: the refresh tick, the message of the last command, the help dialog."""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks import SESSION, _sid


def register(app, ctx) -> None:
    # result / update -> message + versions, in the browser (no round trip). Two stores, two
    # callbacks: Dash runs a callback once for the latest value of its input, so a background
    # update landing right after a command's result would otherwise swallow its message.
    for store in ("result", "update"):
        app.clientside_callback(
            ClientsideFunction(namespace="ssvae", function_name="showResult"),
            Output("versions", "data", allow_duplicate=True),
            Output("message", "children", allow_duplicate=True),
            Output("message", "color", allow_duplicate=True),
            Output("message", "is_open", allow_duplicate=True),
            Output("message", "duration", allow_duplicate=True),
            Input(store, "data"),
            prevent_initial_call=True,
        )

    @app.callback(Output("update", "data", allow_duplicate=True),
                  Output("versions", "data", allow_duplicate=True),
                  Input("tick", "n_intervals"), State("versions", "data"), SESSION,
                  prevent_initial_call=True)
    def on_tick(_n, known, sid):
        """Pick up other tabs' and other writers' changes (labels.csv changed on disk by the
        CLI or a second page) and a new predictions snapshot from the worker. Something to
        say goes to ``update``; new counters alone go straight to ``versions``."""
        ctx.dispatcher.sync()
        loaded = ctx.refresh_predictions()
        if loaded is not None:
            return loaded, no_update
        versions = ctx.dispatcher.versions(_sid(sid))
        notice = ctx.dispatcher.notices(_sid(sid))  # once per tab, e.g. skipped log lines
        if notice:
            return {"ok": True, "message": notice, "versions": versions, "command": "tick",
                    "warning": True}, no_update
        if versions == known:
            raise PreventUpdate  # HTTP 204, no body
        return no_update, versions

    app.clientside_callback(
        ClientsideFunction(namespace="ssvae", function_name="toggleHelp"),
        Output("help-modal", "is_open"), Input("help-btn", "n_clicks"), State("help-modal", "is_open"),
        prevent_initial_call=True,
    )
