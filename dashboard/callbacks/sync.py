"""Keeping tabs in step: the refresh tick, the message of the last command, the help dialog."""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard.callbacks import SESSION, _sid


def register(app, ctx) -> None:
    # result -> message + versions, in the browser (no round trip)
    app.clientside_callback(
        ClientsideFunction(namespace="ssvae", function_name="showResult"),
        Output("versions", "data", allow_duplicate=True),
        Output("message", "children"), Output("message", "color"),
        Output("message", "is_open"), Output("message", "duration"),
        Input("result", "data"),
        prevent_initial_call=True,
    )

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("tick", "n_intervals"), State("versions", "data"), SESSION,
                  prevent_initial_call=True)
    def on_tick(_n, known, sid):
        """Pick up other tabs' and other writers' changes (labels.csv changed on disk by the
        CLI or a second page) and a new predictions snapshot from the worker."""
        ctx.dispatcher.sync()
        loaded = ctx.refresh_predictions()
        if loaded is not None:
            return loaded
        versions = ctx.dispatcher.versions(_sid(sid))
        notice = ctx.dispatcher.notices(_sid(sid))  # once per tab, e.g. skipped log lines
        if notice:
            return {"ok": True, "message": notice, "versions": versions, "command": "tick",
                    "warning": True}
        if versions == known:
            raise PreventUpdate  # HTTP 204, no body
        return {"ok": True, "message": "", "versions": versions, "command": "tick"}

    app.clientside_callback(
        ClientsideFunction(namespace="ssvae", function_name="toggleHelp"),
        Output("help-modal", "is_open"), Input("help-btn", "n_clicks"), State("help-modal", "is_open"),
        prevent_initial_call=True,
    )
