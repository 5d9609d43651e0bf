"""The uncertainty queue: thumbnails of the next images to label, and its settings."""
from __future__ import annotations

from dash import Input, Output, State, html

from dashboard.callbacks import SESSION, need
from dashboard.commands import Select, SetAutoAdvance, SetStrategy
from dashboard.state import STRATEGY_NAMES
from dashboard.text import score_words
from ssvae.ranking import REPRESENTATION_STRATEGIES, strategy_reason, trust_of

PARTS = ("labels", "predictions", "queue", "selection")


def thumbnails(ctx) -> list:
    state = ctx.state
    queue = state.queue()
    score = state.score()
    name = state.score_name()
    items = []
    for rank, serial in enumerate(queue.tolist(), 1):
        caption = f"{score[serial]:.2f}" if score is not None else f"#{rank}"
        title = f"Serial {serial}" + (f" · {score_words(name)} {score[serial]:.3f}" if score is not None else "")
        items.append(html.Button(
            [html.Img(src=ctx.images(serial), className="pixel-image", alt=f"Serial {serial}"),
             html.Span(caption, className="queue-score")],
            className="queue-item" + (" active" if serial == state.selected else ""),
            title=title, type="button", **{"data-serial": str(serial)}))
    if not items:
        items = [html.Div("Every image is labeled.", className="text-muted small p-2")]
    return items



def queue_reason(state) -> str:
    """A few words on why these images come first (:func:`ssvae.ranking.strategy_reason`)."""
    strategy = state.effective_strategy()
    if not state.has_model and strategy == "random":
        return "Random images: no model yet to say which would help most"
    if (strategy not in REPRESENTATION_STRATEGIES and strategy != "random"
            and not state.classifier_trained):
        return "Uncertainty of a classifier with no labels yet: means little until you label a few"
    meta = state.predictions.meta
    reason = strategy_reason(strategy, len(state.labels), len(state.class_names),
                             trusted=trust_of(meta), new_labels=meta.get("new_labels"))
    reason = reason[:1].upper() + reason[1:]
    return reason + (" · spread over the map (diverse batch)" if state.diverse and strategy != "random" else "")


def caption(state) -> str:
    if not state.has_model:
        return ("typical images of the map's clusters" if state.effective_strategy() != "random"
                else "random order until the first training")
    s = state.effective_strategy()
    if s == "random":
        return "random order"
    if state.ranks_by_typicality():  # the badges still show the uncertainty
        return "typical images first · badges: " + score_words(state.score_name())
    return ("most uncertain first: " + score_words(state.score_name())
            + (" · diverse batch" if state.diverse else ""))


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("queue", "children"), Output("seen-queue", "data"),
                  Output("queue-caption", "children"), Output("strategy", "options"),
                  Output("strategy", "disabled"), Output("diverse", "disabled"),
                  Output("queue-reason", "children"),
                  Input("versions", "data"), State("seen-queue", "data"), SESSION)
    def render_queue(_versions, seen, sid):
        with ctx.session(sid):
            need(state, seen, PARTS)
            available = state.available_strategies()
            options = [{"label": STRATEGY_NAMES[s], "value": s, "disabled": s not in available}
                       for s in STRATEGY_NAMES]
            no_model = not state.has_model
            return (thumbnails(ctx), {p: state.versions[p] for p in PARTS}, caption(state), options,
                    len(available) <= 1, no_model, queue_reason(state))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("strategy", "value"), Input("diverse", "value"), prevent_initial_call=True)
    def on_strategy(strategy, diverse):
        return ctx.run(SetStrategy(strategy, diverse))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("auto-advance", "value"), prevent_initial_call=True)
    def on_auto_advance(on):
        return ctx.run(SetAutoAdvance(on))

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("ui-event", "data"), SESSION, prevent_initial_call=True)
    def on_ui_event(event, sid):
        """Clicks on queue thumbnails, sent by assets/keyboard.js."""
        if not isinstance(event, dict):
            return ctx.reject("a page event must be an object with a type.", session=sid)
        if event.get("type") != "select":
            return ctx.reject(f"page event {event.get('type')!r} is not known; the only one is 'select'.",
                              session=sid)
        return ctx.run(Select(event.get("serial")), sid)
