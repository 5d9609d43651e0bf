"""The latent map: draw it once, patch it after, click to select, box/lasso to batch-select."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, Patch, State, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.callbacks import SESSION, need
from dashboard.commands import CommandError, check_serial, Select, SelectBatch, SetColorBy
from dashboard.figures import (component_palette, empty_figure, main_marker, map_figure,
                               overlay_trace, palette, selected_trace, tied_mixture)
from dashboard.mixture import component_names
from dashboard.state import CLASSIFIER_COLORS, COLOR_MODES, COLOR_NAMES
from dashboard.text import score_words

PARTS = ("predictions", "color", "labels", "selection", "batch")


def map_caption(state) -> str:
    caption = f"{state.size:,} images · {len(state.labels):,} labeled"
    p = state.predictions
    if not p.has_model:
        return caption + " · map of the images, no model yet"
    if p.meta.get("epoch") is not None:
        caption += f" · model after epoch {p.meta['epoch']}"
    return caption


def no_labels_notice(state) -> list:
    """Said plainly while the classifier's output means nothing; empty once it has labels."""
    if state.classifier_trained:
        return []
    first = ("No model yet: the map places the images themselves by similarity."
             if not state.has_model else
             "The model has learned the images, not the classes: it predicts nothing yet.")
    return [html.B("The classifier has no labels yet. "), first + " Lasso a cluster "
            "(toolbar, top right of the map) and label it, or label images from the queue; class "
            "predictions appear after the next training."]


def color_options(state) -> list[dict]:
    """The colourings offered; *mixture component* only for a model with a mixture prior."""
    trained = state.classifier_trained
    return [{"label": COLOR_NAMES[m], "value": m,
             "disabled": (m == "truth" and not state.dataset.has_truth)
             or (m in CLASSIFIER_COLORS and not trained)} for m in COLOR_MODES
            if m != "component" or state.has_mixture]


def component_legend(state) -> list:
    p = state.predictions
    colors = component_palette(p.num_components, tied_mixture(state))
    items = [html.Span("colour: most likely mixture component" +
                       (" (component c is class c's)" if tied_mixture(state) else ""),
                       className="legend-note me-2")]
    for c, (name, color) in enumerate(zip(component_names(state), colors)):
        items.append(html.Span([html.I(className="swatch", style={"background": color}), name],
                               className="legend-item", title=f"π = {p.mixture_weights[c]:.3f}"))
    return items


def legend(state) -> list:
    mode = state.color_mode()
    items = []
    if mode == "uncertainty":
        items.append(html.Span(["colour: ", html.B(score_words(state.score_name())),
                                " — bright = the model is less sure"], className="legend-note"))
    elif mode == "component":
        items += component_legend(state)
    else:
        colors = palette(len(state.class_names))
        shown = "user labels (diamonds)" if mode == "label" else COLOR_NAMES[mode].lower()
        items.append(html.Span(f"colour: {shown}", className="legend-note me-2"))
        for i, name in enumerate(state.class_names):
            items.append(html.Span([html.I(className=f"swatch cls-{i % 10}"), name], className="legend-item"))
    if mode == "truth":
        items.append(dbc.Badge("evaluation information — never used as a label", color="warning",
                               text_color="dark", className="ms-2 eval-badge"))
    items.append(html.Span([html.I(className="swatch labeled-swatch"), "labeled"], className="legend-item ms-2"))
    items.append(html.Span([html.I(className="swatch ring-swatch"), "selected"], className="legend-item"))
    return items


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("map", "figure"), Output("seen-map", "data"),
                  Output("map-legend", "children"), Output("map-placeholder", "className"),
                  Output("map-wrap", "className"), Output("map-caption", "children"),
                  Output("color-by-wrap", "className"), Output("color-by", "options"),
                  Output("color-by", "value"),
                  Output("map-notice", "children"), Output("map-notice", "className"),
                  Input("versions", "data"), State("seen-map", "data"), SESSION)
    def render_map(_versions, seen, sid):
        with ctx.session(sid):
            moved = need(state, seen, PARTS)
            seen_now = {p: state.versions[p] for p in PARTS}
            if state.predictions is None:
                if moved is not None and "predictions" not in moved:
                    raise PreventUpdate
                return (empty_figure(""), seen_now, [], "map-placeholder", "map-wrap map-waiting",
                        "no map yet", "d-none", no_update, no_update, [], "d-none")
            caption = map_caption(state)
            if moved is None or "predictions" in moved:
                notice = no_labels_notice(state)
                # a colouring the classifier cannot give yet falls back to the labels, on the
                # buttons too (that sends SetColorBy, so the choice is kept as shown)
                mode = state.color_mode()
                return (map_figure(state), seen_now, legend(state), "map-placeholder d-none",
                        "map-wrap", caption, "", color_options(state),
                        mode if mode != state.color_by else no_update,
                        notice, "map-notice" if notice else "d-none")
            patch = Patch()
            if "color" in moved:
                patch["data"][0]["marker"] = main_marker(state)
            if "labels" in moved:
                patch["data"][1] = overlay_trace(state)
            if "selection" in moved:
                ring = selected_trace(state)
                patch["data"][2]["x"] = ring["x"]
                patch["data"][2]["y"] = ring["y"]
            if "batch" in moved and not state.batch:
                patch["data"][0]["selectedpoints"] = None
                patch["data"][1]["selectedpoints"] = None
                patch["layout"]["selections"] = []
            new_legend = legend(state) if "color" in moved else no_update
            return (patch, seen_now, new_legend, no_update, no_update, caption, no_update, no_update,
                    no_update, no_update, no_update)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("map", "clickData"), SESSION, prevent_initial_call=True)
    def on_click(click, sid):
        try:
            serial = _serial_of(_first_point(click))
        except CommandError as exc:
            return ctx.reject(str(exc), "select", sid)
        return ctx.run(Select(serial), sid)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("map", "selectedData"), SESSION, prevent_initial_call=True)
    def on_select(selected, sid):
        if selected is None:
            with ctx.session(sid):
                if not state.batch:
                    raise PreventUpdate
            return ctx.run(SelectBatch([]), sid)
        points = selected.get("points") if isinstance(selected, dict) else None
        if not isinstance(points, list):
            return ctx.reject("a map selection must hold a list of points.", "select_batch", sid)
        try:
            # the labeled overlay repeats points of the all-images trace: count those once
            serials = [_serial_of(p) for p in points if isinstance(p, dict) and p.get("curveNumber") == 0]
        except CommandError as exc:
            return ctx.reject(str(exc), "select_batch", sid)
        return ctx.run(SelectBatch(serials), sid)

    @app.callback(Output("result", "data", allow_duplicate=True),
                  Input("color-by", "value"), prevent_initial_call=True)
    def on_color(mode):
        return ctx.run(SetColorBy(mode))

    # Hover: the browser shows and hides the tooltip itself (no round trip) and asks the server
    # only for a point whose card it does not hold yet, keeping the tooltip hidden meanwhile,
    # so a busy server never leaves a "Loading…" tooltip over the map (e.g. after a click,
    # when Plotly re-sends the hover of the same point).
    app.clientside_callback(
        ClientsideFunction(namespace="ssvae", function_name="hover"),
        Output("hover-point", "data"), Output("map-tooltip", "show", allow_duplicate=True),
        Output("map-tooltip", "bbox", allow_duplicate=True),
        Input("map", "hoverData"), State("hover-shown", "data"), State("versions", "data"),
        prevent_initial_call=True,
    )

    @app.callback(Output("map-tooltip", "show"), Output("map-tooltip", "bbox"),
                  Output("map-tooltip", "children"), Output("hover-shown", "data"),
                  Input("hover-point", "data"), prevent_initial_call=True)
    def on_hover(point):
        if not isinstance(point, dict):
            return False, no_update, no_update, no_update
        try:
            serial = check_serial(point.get("serial"), state)
        except CommandError:
            return False, no_update, no_update, no_update
        bbox = point.get("bbox") if isinstance(point.get("bbox"), dict) else no_update
        with ctx.lock:  # the card is good until the labels or the predictions move
            shown = {"serial": serial, "v": [state.versions["labels"], state.versions["predictions"]]}
            return True, bbox, hover_card(ctx, serial), shown


def hover_card(ctx, serial: int):
    state = ctx.state
    rows = [html.Div(f"Serial {serial}", className="fw-semibold")]
    label = state.labels.get(serial)
    p = state.predictions
    if state.classifier_trained:
        k = int(p.pred[serial])
        rows.append(html.Div(f"predicted {state.class_names[k]} ({p.probs[serial, k]:.0%})"))
        name = state.score_name()
        if name:
            rows.append(html.Div(f"{score_words(name)} {float(p.scores[name][serial]):.3f}"))
    if state.has_mixture:
        rows.append(html.Div(f"mixture component {component_names(state)[int(p.component[serial])]}"))
    rows.append(html.Div(f"label: {state.class_names[label]}" if label is not None else "unlabeled",
                         className="text-muted"))
    return html.Div([html.Img(src=ctx.images(serial), className="pixel-image tooltip-image"),
                     html.Div(rows, className="small")], className="d-flex gap-2 align-items-center")


def _first_point(data) -> dict:
    points = data.get("points") if isinstance(data, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        raise CommandError("a map click must name a point.")
    return points[0]


def _serial_of(point: dict):
    """The Serial of a map point: its index in the all-images trace (trace 0)."""
    if point.get("curveNumber") == 0:
        return point.get("pointIndex", point.get("pointNumber"))
    raise CommandError("that point is not an image on the map.")
