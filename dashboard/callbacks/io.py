"""Export labels.csv and the model's predictions as downloads; import another labels.csv with a
conflict summary first."""
from __future__ import annotations

import base64
import binascii

from dash import Input, Output, State, dcc, html, no_update
from dash import ctx as dash_ctx
from dash.exceptions import PreventUpdate

from dashboard.callbacks import SESSION, _sid
from dashboard.commands import CommandError, ExportLabels, ImportLabels, plan_import
from dashboard.dispatcher import Result
from dashboard.text import plural

MAX_UPLOAD = 20 * 1024 * 1024
PREDICTIONS_TITLE = ("Download the model's predictions: one row per image with its label, "
                     "predicted class, each class's probability, the uncertainty scores and the "
                     "map position")


def decode_upload(contents, filename) -> tuple[str, str]:
    """Text of a dcc.Upload ``contents`` data URL, or a CommandError saying what is wrong."""
    name = filename if isinstance(filename, str) and filename else "uploaded file"
    if not isinstance(contents, str) or "," not in contents:
        raise CommandError(f"{name}: the upload carries no file content.")
    header, _, data = contents.partition(",")
    if len(data) > MAX_UPLOAD * 4 // 3 + 4:
        raise CommandError(f"{name}: the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB.")
    try:
        raw = base64.b64decode(data, validate=True) if ";base64" in header else data.encode()
    except (binascii.Error, ValueError):
        raise CommandError(f"{name}: the upload is not valid base64.") from None
    if b"\x00" in raw:
        raise CommandError(f"{name}: is a binary file, not a CSV text file.")
    try:
        return raw.decode("utf-8-sig"), name
    except UnicodeDecodeError as exc:
        raise CommandError(f"{name}: is not UTF-8 text (byte {exc.start}).") from None


def summary_view(state, report_ours, filename) -> list:
    rows = [html.P([html.B(filename), f": {plural(report_ours.added, 'new label')}, "
                    f"{report_ours.unchanged:,} already identical, "
                    f"{plural(len(report_ours.conflicts), 'conflict')}."])]
    if report_ours.conflicts:
        rows.append(html.P("Conflicts (Serial: your label → imported label):", className="mb-1"))
        items = [html.Li(f"Serial {s}: {ours} → {theirs}") for s, ours, theirs in report_ours.conflicts[:12]]
        if len(report_ours.conflicts) > 12:
            items.append(html.Li(f"… and {len(report_ours.conflicts) - 12} more"))
        rows.append(html.Ul(items, className="small conflict-list"))
    else:
        rows.append(html.P("No conflicts: both buttons do the same.", className="text-muted"))
    rows.append(html.P(f"You have {plural(len(state.labels), 'label')} now; the import can be undone.",
                       className="small text-muted mb-0"))
    return rows


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("download", "data"), Output("result", "data", allow_duplicate=True),
                  Input("export-btn", "n_clicks"), SESSION, prevent_initial_call=True)
    def on_export(_n, sid):
        result = ctx.run(ExportLabels(), sid)
        with ctx.lock:
            text = state.labels.to_csv()
        return dcc.send_string(text, "labels.csv", type="text/csv"), result

    @app.callback(Output("download-predictions", "data"), Output("result", "data", allow_duplicate=True),
                  Input("export-predictions-btn", "n_clicks"), SESSION, prevent_initial_call=True)
    def on_export_predictions(_n, sid):
        """predictions.csv: the columns of ``ssvae predictions export`` (ssvae.export)."""
        from ssvae.export import ExportError, predictions_frame

        with ctx.lock:
            preds, ds = state.predictions, state.dataset
            try:
                if preds is None:
                    raise ExportError("there are no predictions to export yet: train a model first.")
                frame = predictions_frame(preds, ds.class_names, state.labels.as_dict(), ds.paths,
                                          state.labels.skipped())
            except ExportError as exc:
                text = str(exc)
                return no_update, ctx.reject(text[0].upper() + text[1:], "export_predictions", sid)
        versions = ctx.dispatcher.versions(_sid(sid))
        message = (f"Downloaded predictions.csv: {plural(len(frame), 'image')}, "
                   f"{plural(frame.shape[1], 'column')}.")
        return (dcc.send_data_frame(frame.to_csv, "predictions.csv", index=False),
                Result(True, message, versions, "export_predictions").to_json())

    @app.callback(Output("export-predictions-btn", "disabled"), Output("export-predictions-btn", "title"),
                  Input("versions", "data"))
    def render_export_predictions(_versions):
        with ctx.lock:
            ready = state.has_model
        return not ready, PREDICTIONS_TITLE if ready else "No predictions yet: train a model first"

    @app.callback(Output("import-modal", "is_open"), Output("import-summary", "children"),
                  Output("import-pending", "data"), Output("result", "data", allow_duplicate=True),
                  Output("upload", "contents"),
                  Input("upload", "contents"), State("upload", "filename"), prevent_initial_call=True)
    def on_upload(contents, filename):
        if contents is None:
            raise PreventUpdate
        try:
            text, name = decode_upload(contents, filename)
            with ctx.lock:
                _, report = plan_import(state, text, name, "ours")  # conflicts are the same either way
                view = summary_view(state, report, name)
        except CommandError as exc:
            return False, no_update, None, ctx.reject(str(exc), "import_labels"), None
        return True, view, {"text": text, "filename": name}, no_update, None

    @app.callback(Output("import-modal", "is_open", allow_duplicate=True),
                  Output("import-pending", "data", allow_duplicate=True),
                  Output("result", "data", allow_duplicate=True),
                  Input("import-ours", "n_clicks"), Input("import-theirs", "n_clicks"),
                  Input("import-cancel", "n_clicks"), State("import-pending", "data"),
                  State("session-id", "data"), prevent_initial_call=True)
    def on_import(_o, _t, _c, pending, sid):
        which = dash_ctx.triggered_id
        if which == "import-cancel":
            return False, None, no_update
        if not isinstance(pending, dict):
            return False, None, ctx.reject("There is no uploaded file to import; choose one first.",
                                           "import_labels")
        prefer = "theirs" if which == "import-theirs" else "ours"
        return False, None, ctx.run(ImportLabels(pending.get("text"), pending.get("filename"), prefer), sid)
