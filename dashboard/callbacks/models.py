"""The models card (:mod:`dashboard.models_panel`): switch, create, rename and delete models
through their commands, and draw the comparison of every model of the data set."""
from __future__ import annotations

from dash import Input, Output, State, callback_context, no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks import SESSION, need
from dashboard.commands import CreateModel, DeleteModel, RenameModel, SelectModel
from dashboard.models_panel import compare_figure, compare_table

PARTS = ("models", "predictions", "training")


def runs_by_model(state) -> dict[str, list[dict]]:
    from dashboard.callbacks.training import model_runs

    reg = state.workspace.models
    channel = state.worker.channel if state.worker is not None else None
    return {name: (model_runs(state, channel, name) if channel is not None else reg.runs(name))
            for name in reg.names()}


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("models-select", "options"), Output("models-select", "value"),
                  Output("models-compare", "figure"), Output("models-table", "children"),
                  Output("models-delete", "disabled"), Output("seen-models", "data"),
                  Input("versions", "data"), State("seen-models", "data"))
    def render(_versions, seen):
        with ctx.lock:
            moved = need(state, seen, PARTS)
            seen_now = {p: state.versions[p] for p in PARTS}
            reg = state.workspace.models
            names = reg.names()
            selected = reg.selected()
            infos = [reg.info(n) for n in names]
        runs = runs_by_model(state)
        seen_now.update(n=sum(map(len, runs.values())), names=names, selected=selected)
        if moved == {"predictions"} and all(seen.get(k) == seen_now[k] for k in ("n", "names", "selected")):
            raise PreventUpdate  # a map refresh that brought no new run and no other selection
        app_config = getattr(state.worker, "base_config", None)
        app_prior = app_config.model.prior if app_config is not None else None
        return (names, selected, compare_figure(runs, selected), compare_table(infos, runs, app_prior),
                len(names) < 2, seen_now)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Output("models-select", "value", allow_duplicate=True),
                  Input("models-select", "value"), SESSION, prevent_initial_call=True)
    def on_select(value, sid):
        current = state.workspace.model
        if value == current or value is None:
            raise PreventUpdate
        result = ctx.run(SelectModel(model=value), sid)
        return result, (no_update if result.get("ok") else current)  # refused: back to the model in use

    @app.callback(Output("models-create-modal", "is_open"), Output("models-create-name", "value"),
                  Output("result", "data", allow_duplicate=True),
                  Input("models-new", "n_clicks"), Input("models-create-cancel", "n_clicks"),
                  Input("models-create-ok", "n_clicks"), Input("models-create-name", "n_submit"),
                  State("models-create-name", "value"), State("models-create-config", "value"),
                  SESSION, prevent_initial_call=True)
    def on_create(_new, _cancel, _ok, _submit, name, config, sid):
        trigger = callback_context.triggered_id
        if trigger == "models-new":
            return True, "", no_update
        if trigger == "models-create-cancel":
            return False, no_update, no_update
        result = ctx.run(CreateModel(model=name, config=config), sid)
        return (not result.get("ok")), (no_update if not result.get("ok") else ""), result

    @app.callback(Output("models-rename-dlg-modal", "is_open"), Output("models-rename-name", "value"),
                  Output("result", "data", allow_duplicate=True),
                  Input("models-rename", "n_clicks"), Input("models-rename-dlg-cancel", "n_clicks"),
                  Input("models-rename-dlg-ok", "n_clicks"), Input("models-rename-name", "n_submit"),
                  State("models-rename-name", "value"), SESSION, prevent_initial_call=True)
    def on_rename(_open, _cancel, _ok, _submit, name, sid):
        trigger = callback_context.triggered_id
        if trigger == "models-rename":
            return True, state.workspace.model, no_update
        if trigger == "models-rename-dlg-cancel":
            return False, no_update, no_update
        result = ctx.run(RenameModel(model=state.workspace.model, new_name=name), sid)
        return (not result.get("ok")), no_update, result

    @app.callback(Output("models-delete-dlg-modal", "is_open"), Output("models-delete-text", "children"),
                  Output("result", "data", allow_duplicate=True),
                  Input("models-delete", "n_clicks"), Input("models-delete-dlg-cancel", "n_clicks"),
                  Input("models-delete-dlg-ok", "n_clicks"), State("models-select", "value"),
                  SESSION, prevent_initial_call=True)
    def on_delete(_open, _cancel, _ok, shown, sid):
        trigger = callback_context.triggered_id
        if trigger == "models-delete":
            return True, (f"Delete model '{shown}' with its checkpoint, predictions and runs? "
                          "This cannot be undone. The labels stay as they are."), no_update
        if trigger == "models-delete-dlg-cancel":
            return False, no_update, no_update
        return False, no_update, ctx.run(DeleteModel(model=shown), sid)
