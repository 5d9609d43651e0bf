"""The uncertainty queue: thumbnails of the next images to label, and its settings."""
from __future__ import annotations

from dash import Input, Output, State, html

from dashboard.callbacks import need
from dashboard.commands import Select, SetAutoAdvance, SetStrategy
from dashboard.state import STRATEGY_NAMES

PARTS = ("labels", "predictions", "queue", "selection")


def thumbnails(ctx) -> list:
    state = ctx.state
    queue = state.queue()
    score = state.score()
    name = state.score_name()
    items = []
    for rank, serial in enumerate(queue.tolist(), 1):
        caption = f"{score[serial]:.2f}" if score is not None else f"#{rank}"
        title = f"Serial {serial}" + (f" · {name.replace('_', ' ')} {score[serial]:.3f}" if score is not None else "")
        items.append(html.Button(
            [html.Img(src=ctx.images(serial), className="pixel-image", alt=f"Serial {serial}"),
             html.Span(caption, className="queue-score")],
            className="queue-item" + (" active" if serial == state.selected else ""),
            title=title, type="button", **{"data-serial": str(serial)}))
    if not items:
        items = [html.Div("Every image is labeled.", className="text-muted small p-2")]
    return items


#: why the queue offers these images first, per strategy (a stand-in for
#: ``ssvae.ranking.strategy_reason``: switch :func:`queue_reason` to it once it lands)
REASONS = {
    "entropy": "Least certain by entropy: the model spreads its belief over several classes",
    "margin": "Least certain by margin: the model's top two classes are nearly tied",
    "least_confidence": "Least certain: the model's favourite class has the lowest probability",
    "bald": "Most disputed (BALD): the model's samples disagree on the class",
    "random": "Random order: a baseline, no model guidance",
}


def queue_reason(state) -> str:
    """A few words on why these images come first."""
    if not state.has_model:
        return "Random images: no model yet to say which would help most"
    strategy = state.effective_strategy()
    if strategy != "random" and not state.classifier_trained:
        return "Uncertainty of a classifier with no labels yet: means little until you label a few"
    reason = REASONS.get(strategy, strategy)
    return reason + (" · spread over the map (diverse batch)" if state.diverse and strategy != "random" else "")


def caption(state) -> str:
    if not state.has_model:
        return "random order until the first training"
    s = state.effective_strategy()
    text = "highest " + (state.score_name() or "").replace("_", " ") if s != "random" else "random order"
    return text + (" · diverse batch" if state.diverse else "")


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("queue", "children"), Output("seen-queue", "data"),
                  Output("queue-caption", "children"), Output("strategy", "options"),
                  Output("strategy", "disabled"), Output("diverse", "disabled"),
                  Output("queue-reason", "children"),
                  Input("versions", "data"), State("seen-queue", "data"))
    def render_queue(_versions, seen):
        with ctx.lock:
            need(state, seen, PARTS)
            available = state.available_strategies()
            options = [{"label": STRATEGY_NAMES[s], "value": s, "disabled": s not in available}
                       for s in STRATEGY_NAMES]
            no_model = not state.has_model
            return (thumbnails(ctx), {p: state.versions[p] for p in PARTS}, caption(state), options,
                    no_model, no_model, queue_reason(state))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("strategy", "value"), Input("diverse", "value"), prevent_initial_call=True)
    def on_strategy(strategy, diverse):
        return ctx.run(SetStrategy(strategy, diverse))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("auto-advance", "value"), prevent_initial_call=True)
    def on_auto_advance(on):
        return ctx.run(SetAutoAdvance(on))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("ui-event", "data"), prevent_initial_call=True)
    def on_ui_event(event):
        """Clicks on queue thumbnails, sent by assets/keyboard.js."""
        if not isinstance(event, dict):
            return ctx.reject("a page event must be an object with a type.")
        if event.get("type") != "select":
            return ctx.reject(f"page event {event.get('type')!r} is not known; the only one is 'select'.")
        return ctx.run(Select(event.get("serial")))
