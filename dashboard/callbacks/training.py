"""The training panel: Start/Stop, progress with ETA, live loss curves, run history, and the
retrain-as-you-label option.

The worker writes its progress to the diskcache channel; ``train-tick`` polls it once a second
and answers 204 (no body) when nothing moved. The loss curves grow through ``extendData`` with
only the events this tab has not drawn yet; the whole figure goes out only for a new run. The
same poll starts a short warm run when retraining as you label is on and one is due
(:mod:`dashboard.autoretrain`), through the Train button's command.
"""
from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.autoretrain import AutoRetrain
from dashboard.callbacks import need
from dashboard.commands import SetAutoRetrain, StartTraining, StopTraining, TRAIN_SETTINGS
from dashboard.figures import accuracy_figure, curves_extension, curves_figure
from dashboard.worker.protocol import BUSY, DEAD, ERROR, IDLE, QUEUED, STARTING, STOPPING, TRAINING
from ssvae.models_registry import DEFAULT_MODEL
from ssvae.schedule import epochs_for

BADGE = {IDLE: ("idle", "secondary"), QUEUED: ("queued", "info"), STARTING: ("starting", "info"),
         TRAINING: ("training", "success"), STOPPING: ("stopping", "warning"),
         ERROR: ("error", "danger"), DEAD: ("not running", "danger")}
HISTORY_ROWS = 8


def fmt_duration(seconds) -> str:
    if not isinstance(seconds, (int, float)) or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d} min"
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d} h"


def progress_view(status: dict, events: list[dict]) -> tuple[float, str, str]:
    """Bar value (0–100), the bar's own text and a one-line status text."""
    st = status.get("status")
    epochs = status.get("epochs") or 0
    done = float(status.get("progress") or status.get("epoch") or 0)
    pct = 100.0 * min(done, epochs) / epochs if epochs else 0.0
    if st in (TRAINING, STOPPING):
        eta = status.get("eta_s")
        text = f"epoch {min(int(done) + 1, epochs)} of {epochs}"
        text += f" · ETA {fmt_duration(eta)}" if eta is not None else " · compiling"
        text += f" · {status.get('labels', 0):,} labels"
        acc = next((e["test_accuracy"] for e in reversed(events) if "test_accuracy" in e), None)
        if isinstance(acc, (int, float)) and status.get("labels"):  # no labels: no classifier
            text += f" · test accuracy {100 * acc:.1f}%"
        if st == STOPPING:
            text = f"stopping · {text}"
        return pct, f"epoch {min(int(done) + 1, epochs)} of {epochs} · {pct:.0f}%", text
    if st in (QUEUED, STARTING):
        return 0.0, "starting…", status.get("message") or "starting"
    if st == IDLE and epochs and done:
        return pct, f"last run: {min(int(done), epochs)} of {epochs} epochs", status.get("message") or ""
    return pct if st == IDLE else 0.0, "", status.get("message") or ""


def _num(v, fmt="{:.4g}") -> str:
    return fmt.format(v) if isinstance(v, (int, float)) and v == v else "–"


HEAD_TITLES = {"guessed": "Of the labels given since the run before, how many that run's model "
                          "predicted right before it saw them: an accuracy estimate on your own "
                          "data that needs no test set. The auto queue asks for typical images "
                          "until a model gets a third of the way from chance to all right (40 % "
                          "with 10 classes), then for uncertain ones"}


def guessed(checked) -> str:
    """'21 / 30' for a run's ``new_labels`` ({"right", "checked"}), '–' without one."""
    if not isinstance(checked, dict) or not checked.get("checked"):
        return "–"
    return f"{checked['right']} / {checked['checked']}"


def history_table(runs: list[dict]):
    if not runs:
        return html.Div("no runs yet", className="small text-muted")
    rows = []
    for r in sorted(runs, key=lambda r: r.get("finished_at") or 0, reverse=True)[:HISTORY_ROWS]:
        final = r.get("final") or {}
        when = time.strftime("%H:%M", time.localtime(r["finished_at"])) if r.get("finished_at") else "–"
        acc = r.get("test_accuracy") if r.get("labels") else None  # no labels: no classifier
        rows.append(html.Tr([
            html.Td(when),
            html.Td(f"{r.get('status', '')} ⚠ collapsed" if r.get("warning") else r.get("status", ""),
                    className="text-warning" if r.get("warning") else None),
            html.Td(_num(r.get("labels"), "{:,}")),
            html.Td(_num(r.get("epochs"), "{:d}")), html.Td(_num(final.get("loss"))),
            html.Td(_num(final.get("val_total", final.get("val_loss")))),
            html.Td(_num(100 * acc, "{:.1f}%") if isinstance(acc, (int, float)) else "–"),
            html.Td(guessed(r.get("new_labels"))),
            html.Td(fmt_duration(r.get("seconds"))),
        ], title=r.get("error") or r.get("warning") or r.get("run_id", "")))
    head = html.Thead(html.Tr([html.Th(h, title=HEAD_TITLES.get(h)) for h in (
        "ended", "status", "labels", "epochs", "loss", "val loss", "test acc", "guessed", "time")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, borderless=True,
                     class_name="mb-0 small train-table")


def model_runs(state, channel, model: str) -> list[dict]:
    """The runs of ``model``: its history file, and runs the worker published for it that the
    file lacks (a run its worker died in; runs from before models had names count as the
    ``default`` model's)."""
    own = state.workspace.models.runs(model)
    ids = {r.get("run_id") for r in own}
    return own + [r for r in channel.runs() if r.get("model", DEFAULT_MODEL) == model
                  and r.get("run_id") not in ids]


def register(app, ctx) -> None:
    state = ctx.state
    if state.worker is None:
        return
    worker = state.worker
    auto = ctx.extras["auto_retrain"] = AutoRetrain(state)

    def start(cmd: StartTraining) -> dict:
        """Dispatch ``cmd`` once the page holds the latest model: whether the run starts from
        fresh weights is read from the model's predictions, and a run that has just ended may
        have written them after this tab's last refresh (a second restart otherwise)."""
        ctx.refresh_predictions()
        return ctx.run(cmd)

    def start_if_due() -> dict | None:
        """Start a short warm run when retraining as you label is on and one is due; the
        result (JSON) or None. Two tabs polling at once start one run: the second finds the
        worker busy."""
        if not auto.lock.acquire(blocking=False):
            return None
        try:
            with ctx.lock:
                reason = auto.due()
                if reason is None:
                    return None
                epochs = epochs_for(state.size, worker.config, retrain=True)
                result = start(StartTraining(epochs=epochs, settings=dict(state.training.get("settings", {})),
                                             auto=True))
            if not result.get("ok"):
                return None  # e.g. another page of this workspace started one meanwhile
            auto.last_started = time.time()
            result["message"] = f"Retraining by itself ({reason}). {result.get('message', '')}"
            return result
        finally:
            auto.lock.release()

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("train-auto", "value"), Input("train-auto-every", "value"),
                  Input("train-auto-pause", "value"), prevent_initial_call=True)
    def on_auto(on, every, pause_s):
        return ctx.run(SetAutoRetrain(on=on, every=every, pause_s=pause_s))

    @app.callback(Output("train-auto-status", "children"), Output("seen-auto", "data"),
                  Input("versions", "data"), State("seen-auto", "data"))
    def render_auto(_versions, seen):
        with ctx.lock:
            need(state, seen, ("labels", "training"))
            return auto.status_text(), {p: state.versions[p] for p in ("labels", "training")}

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("train-start", "n_clicks"), State("train-epochs", "value"),
                  *[State(f"train-{key}", "value") for key, _, _ in TRAIN_SETTINGS],
                  prevent_initial_call=True)
    def on_start(_n, epochs, *values):
        settings = {key: v for (key, _, _), v in zip(TRAIN_SETTINGS, values)}
        return start(StartTraining(epochs=epochs, settings=settings))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("train-stop", "n_clicks"), prevent_initial_call=True)
    def on_stop(_n):
        return ctx.run(StopTraining())

    @app.callback(Output("train-badge", "children"), Output("train-badge", "color"),
                  Output("train-progress", "value"), Output("train-progress-text", "children"),
                  Output("train-progress", "animated"), Output("train-progress", "striped"),
                  Output("train-status", "children"),
                  Output("train-start", "disabled"), Output("train-stop", "disabled"),
                  Output("train-error", "children"), Output("train-error", "is_open"),
                  Output("train-curves", "figure"), Output("train-curves", "extendData"),
                  Output("train-history", "children"), Output("train-accuracy", "figure"),
                  Output("seen-training", "data"),
                  Output("update", "data", allow_duplicate=True),
                  Input("train-tick", "n_intervals"), Input("versions", "data"),
                  State("seen-training", "data"), prevent_initial_call="initial_duplicate")
    def render_training(_n, _versions, seen):
        started = start_if_due()
        status = worker.status()
        channel = worker.channel
        seen = seen if isinstance(seen, dict) else {}
        error = channel.error()
        run_id = status.get("run_id") or seen.get("run")
        model = state.workspace.model  # the runs table and accuracy chart are the selected model's
        key = {"pv": channel.progress_version(), "status": status.get("status"),
               "epoch": status.get("progress"), "msg": status.get("message"), "run": run_id,
               "err": (error or {}).get("at"), "model": model}
        if {k: seen.get(k) for k in key} == key:
            raise PreventUpdate  # nothing moved: HTTP 204

        # curves: the whole figure for a new run (or a new tab), else only the new events
        events = channel.curves(run_id)
        labeled = bool(status.get("labels")) or not run_id  # a run with no labels trains no classifier
        if seen.get("run") != run_id or not seen.get("n") or seen["n"] > len(events):
            title = f"run {run_id} · {status.get('labels', 0):,} labels" if run_id else ""
            figure, extend = curves_figure(events, title, labeled=labeled,
                                           epochs=status.get("epochs")), no_update
        elif len(events) > seen["n"]:
            figure, extend = no_update, curves_extension(events[seen["n"]:], labeled=labeled)
        else:
            figure, extend = no_update, no_update

        runs = model_runs(state, channel, model)
        if seen.get("runs") != len(runs) or seen.get("run") is None or seen.get("model") != model:
            history, accuracy = history_table(runs), accuracy_figure(runs)
        else:
            history, accuracy = no_update, no_update

        result, result_version = no_update, channel.result_version()
        if seen.get("rv") is not None and result_version != seen.get("rv"):
            # a run ended: map, queue and stats follow (unless the 2 s tick was first)
            result = ctx.refresh_predictions() or no_update
        if started is not None:  # its message; the latest versions
            result = started if result is no_update else {**result, "message": started["message"]}

        st = status.get("status")
        busy = st in BUSY and st != DEAD
        value, label, text = progress_view(status, events)
        badge, color = BADGE.get(st, (st or "", "secondary"))
        message = (error or {}).get("message") if st in (ERROR, DEAD) or (error and not busy) else None
        seen_now = {**key, "n": len(events), "runs": len(runs), "rv": result_version}
        return (badge, color, value, label, busy, busy, text, busy, not busy or st == STOPPING,
                message, bool(message), figure, extend, history, accuracy, seen_now, result)
