"""Plotly figures as plain dicts, built from typed numpy arrays.

The map is one ``Scattergl`` over every image (x, y and colour sent as base64 typed arrays, so
60 000 points cost well under a megabyte), an overlay of the labeled images (bigger, outlined,
coloured by their label) and a one-point trace that rings the selected image. Updates after a
select or a label are :class:`dash.Patch` objects on the overlay and the ring only.
"""
from __future__ import annotations

import datetime as dt

import base64

import numpy as np
from plotly.colors import qualitative, sequential

from dashboard.state import AppState
from dashboard.text import score_words

UNLABELED_GREY = "#c3c8d0"
SELECTED_RING = "#ff2d55"
# mid-grey text and faint grid lines read on both the light and the dark theme
TEXT = "#8a929c"
GRID = "rgba(140,150,160,0.22)"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
# explicit stops: plotly.js knows only a few scale names, and the figures bypass plotly.py
UNCERTAINTY_SCALE = [[i / (len(sequential.Plasma) - 1), c] for i, c in enumerate(sequential.Plasma)]


#: numpy dtypes plotly.js reads as typed arrays (its ``dtype`` codes)
TYPED_DTYPES = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
                "uint32": "u4", "float32": "f4", "float64": "f8"}


def typed(arr: np.ndarray):
    """A numpy array as a plotly.js typed-array spec ``{"dtype", "bdata"[, "shape"]}`` (the
    base64 form plotly.js ≥ 2.28 reads for any data array); 64-bit integers and booleans become
    the smallest integer type that holds them (float64 beyond 32 bits), anything else float64."""
    arr = np.asarray(arr)
    if arr.size == 0:
        return []
    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8)
    if arr.dtype.kind in "iu" and str(arr.dtype) not in TYPED_DTYPES:  # int64: the
        small = np.result_type(np.min_scalar_type(arr.min()), np.min_scalar_type(arr.max()))
        arr = arr.astype(small if str(small) in TYPED_DTYPES else np.float64)  # smallest that fits
    elif str(arr.dtype) not in TYPED_DTYPES:
        arr = arr.astype(np.float64)
    arr = np.ascontiguousarray(arr)
    spec = {"dtype": TYPED_DTYPES[str(arr.dtype)], "bdata": base64.b64encode(arr).decode("ascii")}
    if arr.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in arr.shape)
    return spec


def palette(k: int) -> list[str]:
    """Tableau-10, as in assets/dashboard.css (.cls-0 … .cls-9); beyond ten classes it repeats."""
    base = qualitative.T10
    return [base[i % len(base)] for i in range(k)]


def component_palette(k: int, tied: bool) -> list[str]:
    """Colours of mixture components: the class palette when component c is class c's (a
    tied mixture, so a component that took another class shows in that class's colour on
    the map), else a palette of its own that cannot be mistaken for the classes'."""
    if tied:
        return palette(k)
    base = qualitative.Dark24
    return [base[i % len(base)] for i in range(k)]


def discrete_scale(k: int, colors: list[str] | None = None) -> list:
    """A step colour scale so integer codes 0..k-1 map to the class palette exactly."""
    colors = colors or palette(k)
    scale = []
    for i, c in enumerate(colors):
        scale += [[i / k, c], [(i + 1) / k, c]]
    return scale


def _base_layout(**extra) -> dict:
    layout = {"margin": {"l": 8, "r": 8, "t": 8, "b": 8}, "paper_bgcolor": "rgba(0,0,0,0)",
              "plot_bgcolor": "rgba(0,0,0,0)", "font": {"family": FONT, "size": 12, "color": TEXT},
              "showlegend": False}
    layout.update(extra)
    return layout


# -- the latent map ------------------------------------------------------------------------
_GRID = 65535
_grid_cache: dict = {}


def map_grid(state: AppState) -> np.ndarray:
    """The 2-D map on a 65 535 × 65 535 grid as uint16 (N×2): 2 bytes a coordinate on the wire.

    A screen has at most a few thousand pixels across, so the grid is far finer than any
    zoom a person uses; the axes are hidden, so only relative positions matter.
    """
    p = state.predictions
    hit = _grid_cache.get("for")
    if hit is not None and hit() is p:
        return _grid_cache["grid"]
    import weakref

    xy = np.asarray(p.map2d, dtype=np.float64)
    finite = np.isfinite(xy).all(axis=1)
    lo = xy[finite].min(axis=0) if finite.any() else np.zeros(2)
    hi = xy[finite].max(axis=0) if finite.any() else np.ones(2)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    grid = np.round((np.nan_to_num(xy, nan=0.0) - lo) / span * _GRID).clip(0, _GRID).astype(np.uint16)
    _grid_cache.update({"for": weakref.ref(p), "grid": grid})
    return grid

def main_marker(state: AppState) -> dict:
    """Colour of the all-images trace for the current colour-by mode."""
    p, k = state.predictions, len(state.class_names)
    marker: dict = {"size": 4, "opacity": 0.75, "showscale": False}
    mode = state.color_mode()
    if mode == "predicted" and p is not None:
        marker.update(color=typed(p.pred.astype(np.uint8 if k <= 255 else np.uint16)),
                      colorscale=discrete_scale(k), cmin=-0.5, cmax=k - 0.5)
    elif mode == "truth" and state.dataset.truth is not None:
        marker.update(color=typed(state.dataset.truth.astype(np.uint8 if k <= 255 else np.uint16)),
                      colorscale=discrete_scale(k), cmin=-0.5, cmax=k - 0.5)
    elif mode == "component" and p is not None and p.has_mixture:
        kc = p.num_components
        marker.update(color=typed(p.component.astype(np.uint8 if kc <= 255 else np.uint16)),
                      colorscale=discrete_scale(kc, component_palette(kc, tied_mixture(state))),
                      cmin=-0.5, cmax=kc - 0.5)
    elif mode == "uncertainty" and p is not None:
        score = state.score().astype(np.float32)
        marker.update(color=typed(score), colorscale=UNCERTAINTY_SCALE,
                      cmin=float(score.min()), cmax=float(score.max()) or 1.0, showscale=True,
                      colorbar={"thickness": 10, "len": 0.5, "x": 1.0, "xpad": 0, "y": 0.98,
                                "yanchor": "top", "outlinewidth": 0,
                                "title": {"text": score_words(state.score_name()), "side": "right"}})
    else:  # "label": unlabeled images grey; the overlay carries the label colours
        marker.update(color=UNLABELED_GREY, opacity=0.6)
    return marker


def tied_mixture(state: AppState) -> bool:
    """Whether the mixture's components are the classes (one per class, p(z|y) = N(μ_y, σ_y²))."""
    p = state.predictions
    return (p is not None and p.has_mixture and p.num_components == len(state.class_names)
            and p.meta.get("tied_mixture", True))


def overlay_trace(state: AppState) -> dict:
    """The labeled images, drawn on top: larger, white-outlined, coloured by their label."""
    k = len(state.class_names)
    labels = state.labels.as_array()
    serials = np.flatnonzero(labels >= 0)
    xy = map_grid(state)[serials]
    # not hoverable: hovers, clicks and box selections reach the all-images point underneath,
    # so this trace needs no Serials and costs 5 bytes per labeled image
    return {
        "type": "scattergl", "mode": "markers", "name": "labeled",
        "x": typed(xy[:, 0]), "y": typed(xy[:, 1]),
        "hoverinfo": "skip",
        "marker": {"size": 10, "color": typed(labels[serials].astype(np.uint8 if k <= 255 else np.uint16)),
                   "colorscale": discrete_scale(k), "cmin": -0.5, "cmax": k - 0.5,
                   "line": {"width": 1.5, "color": "#ffffff"}, "symbol": "diamond"},
    }


def selected_trace(state: AppState) -> dict:
    s = state.selected
    xy = map_grid(state)[s].tolist() if s is not None else [None, None]
    return {"type": "scattergl", "mode": "markers", "name": "selected",
            "x": [xy[0]], "y": [xy[1]], "hoverinfo": "skip",
            "marker": {"size": 18, "color": "rgba(0,0,0,0)", "symbol": "circle",
                       "line": {"width": 3, "color": SELECTED_RING}}}


def map_figure(state: AppState) -> dict:
    """The whole map, sent once per page load and after each new predictions snapshot."""
    p = state.predictions
    xy = map_grid(state)
    main = {"type": "scattergl", "mode": "markers", "name": "images",
            "x": typed(xy[:, 0]), "y": typed(xy[:, 1]), "hoverinfo": "none",
            "marker": main_marker(state),
            "selected": {"marker": {"opacity": 1.0}}, "unselected": {"marker": {"opacity": 0.25}}}
    layout = _base_layout(
        xaxis={"visible": False, "range": [-1200, _GRID + 1200]},
        yaxis={"visible": False, "range": [-1200, _GRID + 1200]},
        dragmode="zoom", hovermode="closest", clickmode="event", uirevision="map",
        newselection={"line": {"color": SELECTED_RING, "width": 1.5, "dash": "dot"}},
    )
    return {"data": [main, overlay_trace(state), selected_trace(state)], "layout": layout}


def empty_figure(text: str, height: int | None = None) -> dict:
    layout = _base_layout(
        xaxis={"visible": False}, yaxis={"visible": False},
        annotations=[{"text": text, "showarrow": False, "xref": "paper", "yref": "paper",
                      "x": 0.5, "y": 0.5, "font": {"size": 13, "color": TEXT}}])
    if height:
        layout["height"] = height
    return {"data": [], "layout": layout}


# -- the selected image ----------------------------------------------------------------------
def probability_figure(state: AppState, serial: int | None) -> dict:
    if serial is None:
        return empty_figure("select an image", 190)
    if not state.classifier_trained:
        return empty_figure("class probabilities appear once the model has trained with labels", 190)
    probs = state.predictions.probs[serial].astype(float)
    k = len(state.class_names)
    colors = palette(k)
    top = int(probs.argmax())
    return {"data": [{"type": "bar", "x": list(state.class_names), "y": [round(v, 4) for v in probs],
                      "marker": {"color": [c if i == top else c + "88" for i, c in enumerate(colors)]},
                      "hovertemplate": "%{x}: %{y:.1%}<extra></extra>"}],
            "layout": _base_layout(height=190, margin={"l": 36, "r": 6, "t": 6, "b": 48},
                                   yaxis={"range": [0, 1.02], "tickvals": [0, 0.5, 1], "tickformat": ".0%",
                                          "gridcolor": GRID, "fixedrange": True},
                                   xaxis={"type": "category", "tickangle": -35 if k > 10 or
                                          max(len(n) for n in state.class_names) > 3 else 0},
                                   bargap=0.25)}


# -- statistics ------------------------------------------------------------------------------
def class_counts_figure(state: AppState) -> dict:
    counts = state.labels.counts()
    k = len(state.class_names)
    return {"data": [{"type": "bar", "x": list(state.class_names), "y": counts,
                      "marker": {"color": palette(k)}, "text": counts, "textposition": "outside",
                      "cliponaxis": False, "hovertemplate": "%{x}: %{y} labels<extra></extra>"}],
            "layout": _base_layout(height=200, margin={"l": 36, "r": 6, "t": 14, "b": 48},
                                   yaxis={"gridcolor": GRID, "rangemode": "tozero", "automargin": True,
                                          "tickmode": "linear", "tick0": 0,
                                          "dtick": whole_step(max(counts, default=0), 4)},
                                   xaxis={"type": "category", "automargin": True}, bargap=0.25)}


def history_figure(state: AppState, max_points: int = 400) -> dict:
    hist = state.history[-max_points:] if state.history else [(0.0, len(state.labels))]
    times = [dt.datetime.fromtimestamp(t).isoformat(timespec="seconds") for t, _ in hist]
    # at least ten minutes wide: a fresh history would get ticks a millisecond apart
    t0, t1 = hist[0][0], max(hist[-1][0], hist[0][0] + 600)
    x_range = [dt.datetime.fromtimestamp(t).isoformat(timespec="seconds") for t in (t0 - 30, t1 + 30)]
    counts = [n for _, n in hist]
    return {"data": [{"type": "scatter", "mode": "lines", "x": times, "y": counts,
                      "line": {"shape": "hv", "width": 2, "color": "#0d6efd"},
                      "fill": "tozeroy", "fillcolor": "rgba(13,110,253,0.08)",
                      "hovertemplate": "%{x}<br>%{y} labels<extra></extra>"}],
            # automargin: two-line date ticks and four-digit counts must not be clipped
            "layout": _base_layout(height=200, margin={"l": 8, "r": 16, "t": 14, "b": 8},
                                   yaxis={"gridcolor": GRID, "rangemode": "tozero", "automargin": True,
                                          "tickmode": "linear", "tick0": 0,
                                          "dtick": whole_step(max(counts, default=0), 4)},
                                   xaxis={"type": "date", "gridcolor": GRID, "automargin": True,
                                          "nticks": 5, "range": x_range, "hoverformat": "%H:%M:%S",
                                          "tickformatstops": [
                                              {"dtickrange": [None, 86_400_000], "value": "%H:%M"},
                                              {"dtickrange": [86_400_000, None], "value": "%b %d"}]})}


# -- training --------------------------------------------------------------------------------
#: the loss panels: title, the train key and the validation key of the worker's progress events
CURVE_PANELS = (("Total loss", "loss", "val_total"),
                ("Reconstruction", "recon", "val_recon"),
                ("KL", "kl_z", "val_kl_z"),
                ("Classification", "classification", "test_classification"))
TRAIN_COLOR, VAL_COLOR = "#0d6efd", "#fd7e14"


def curve_points(events: list[dict], labeled: bool = True) -> tuple[list[list], list[list]]:
    """x (model epoch, fractional between epochs) and y of every curve trace, in trace order:
    panel i has its train curve at 2i (every event) and its validation curve at 2i+1 (epochs).
    Without labels (``labeled=False``) the classification panel stays empty: an untrained
    classifier's loss on the held-out set means nothing."""
    n = 2 * len(CURVE_PANELS)
    xs: list[list] = [[] for _ in range(n)]
    ys: list[list] = [[] for _ in range(n)]
    for ev in events:
        x = ev.get("epoch")
        if not isinstance(x, (int, float)):
            continue
        for i, (_, train_key, val_key) in enumerate(CURVE_PANELS):
            if not labeled and train_key == "classification":
                continue
            for j, key in ((2 * i, train_key), (2 * i + 1, val_key if ev.get("event") == "epoch" else None)):
                v = ev.get(key) if key else None
                if isinstance(v, (int, float)) and np.isfinite(v):
                    xs[j].append(round(float(x), 4))
                    ys[j].append(round(float(v), 5))
    return xs, ys


def whole_step(span: int | float | None, ticks: int = 6) -> int:
    """A whole 1-2-5 step between axis ticks, so ``span`` gets about ``ticks`` of them: counts
    and epochs are whole numbers, a tick at 0.5 labels or epoch 44.2 reads wrong."""
    want = max(1.0, (span or 1) / ticks)
    for magnitude in (1, 10, 100, 1000, 10000):
        for step in (1, 2, 5):
            if step * magnitude >= want:
                return step * magnitude
    return 100000


def curves_figure(events: list[dict], title: str = "", labeled: bool = True,
                  epochs: int | None = None) -> dict:
    """Four small loss panels (train solid, validation dashed) that ``extendData`` grows;
    ``epochs`` is the run's length (for the tick spacing)."""
    xs, ys = curve_points(events, labeled)
    if not epochs:  # the run's length unknown: the span of what is drawn
        drawn = [x for trace in xs for x in trace]
        epochs = max(drawn) - min(drawn) if drawn else None
    data, layout = [], _base_layout(height=330, showlegend=True, margin={"l": 44, "r": 8, "t": 26, "b": 30},
                                    legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.12,
                                            "font": {"size": 11}},
                                    uirevision="curves")
    annotations = []
    for i, (name, _, val_key) in enumerate(CURVE_PANELS):
        ax = "" if i == 0 else str(i + 1)
        col, row = i % 2, i // 2
        x0, x1 = (0.0, 0.45) if col == 0 else (0.55, 1.0)
        y0, y1 = (0.58, 1.0) if row == 0 else (0.0, 0.4)
        layout[f"xaxis{ax}"] = {"domain": [x0, x1], "anchor": f"y{ax}", "gridcolor": GRID}
        if epochs and epochs <= 6:
            # a short run: one tick per whole epoch, never 44.2 (longer runs span enough
            # epochs for Plotly's own ticks to fall on whole numbers)
            layout[f"xaxis{ax}"].update(tickmode="linear", tick0=0, dtick=1)
        if row:
            layout[f"xaxis{ax}"]["title"] = {"text": "epoch", "standoff": 2, "font": {"size": 10}}
        layout[f"yaxis{ax}"] = {"domain": [y0, y1], "anchor": f"x{ax}", "gridcolor": GRID,
                                "rangemode": "tozero" if i == 3 else "normal"}
        if not labeled and CURVE_PANELS[i][1] == "classification":
            layout[f"xaxis{ax}"]["visible"] = layout[f"yaxis{ax}"]["visible"] = False
        annotations.append({"text": f"<b>{name}</b>", "showarrow": False, "xref": "paper", "yref": "paper",
                            "x": x0, "y": y1, "xanchor": "left", "yanchor": "bottom",
                            "font": {"size": 11, "color": TEXT}})
        held_out = val_key.startswith("test_")
        for j, (label, color, dash) in enumerate((("train", TRAIN_COLOR, "solid"),
                                                   ("validation", VAL_COLOR, "dash"))):
            data.append({"type": "scatter", "mode": "lines", "x": xs[2 * i + j], "y": ys[2 * i + j],
                         "xaxis": f"x{ax}", "yaxis": f"y{ax}", "name": label, "legendgroup": label,
                         "showlegend": i == 0, "line": {"color": color, "width": 1.8, "dash": dash},
                         "hovertemplate": f"{name} · {'held-out test' if held_out and j else label}"
                                          "<br>epoch %{x:.2f}: %{y:.4g}<extra></extra>"})
    if title:
        annotations.append({"text": title, "showarrow": False, "xref": "paper", "yref": "paper",
                            "x": 0, "y": 1.12, "xanchor": "left", "yanchor": "middle",
                            "font": {"size": 11, "color": TEXT}})
    if events and not labeled:
        x0, x1 = 0.55, 1.0
        annotations.append({"text": "no labels yet: the classifier is not trained", "showarrow": False,
                            "xref": "paper", "yref": "paper", "x": (x0 + x1) / 2, "y": 0.2,
                            "font": {"size": 11, "color": TEXT}})
    if not events:
        annotations.append({"text": "loss curves appear when a run starts", "showarrow": False,
                            "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                            "font": {"size": 13, "color": TEXT}})
    layout["annotations"] = annotations
    return {"data": data, "layout": layout}


def curves_extension(events: list[dict], labeled: bool = True):
    """``extendData`` for :func:`curves_figure`: append the points of ``events`` to each trace."""
    xs, ys = curve_points(events, labeled)
    return [{"x": xs, "y": ys}, list(range(len(xs)))]


def accuracy_figure(runs: list[dict]) -> dict:
    """Held-out test accuracy against the number of labels, one point per finished run."""
    # a run without labels has no classifier: its "accuracy" is chance, not a result
    done = [r for r in runs if isinstance(r.get("test_accuracy"), (int, float))
            and np.isfinite(r["test_accuracy"]) and isinstance(r.get("labels"), int) and r["labels"] > 0]
    if not done:
        return empty_figure("one point per finished run with labels", 200)
    done.sort(key=lambda r: r.get("finished_at") or 0)
    x = [r["labels"] for r in done]
    y = [round(100 * r["test_accuracy"], 2) for r in done]
    text = [f"{r.get('epochs', '?')} epochs, {r.get('status', '')}" for r in done]
    return {"data": [{"type": "scatter", "mode": "lines+markers", "x": x, "y": y, "text": text,
                      "line": {"color": "#198754", "width": 2}, "marker": {"size": 7},
                      "hovertemplate": "%{x} labels: %{y:.1f}%<br>%{text}<extra></extra>"}],
            "layout": _base_layout(height=200, margin={"l": 40, "r": 10, "t": 10, "b": 36},
                                   xaxis={"title": {"text": "labels", "standoff": 4}, "gridcolor": GRID,
                                          "rangemode": "tozero"},
                                   yaxis={"title": {"text": "test accuracy %", "standoff": 4},
                                          "gridcolor": GRID})}


# -- mixture prior ---------------------------------------------------------------------------
def mixture_weights_figure(weights: np.ndarray, names: list[str], colors: list[str],
                           height: int = 210) -> dict:
    """π per component as bars, with the uniform weight 1/K as a dotted line (the caption
    says so: a label on the line would sit on the bars' own numbers)."""
    w = np.asarray(weights, dtype=float)
    k = len(w)
    return {"data": [{"type": "bar", "x": names, "y": [round(float(v), 5) for v in w],
                      "marker": {"color": colors}, "text": [f"{v:.0%}" if v >= 0.005 else "<1%" for v in w],
                      "textposition": "outside", "cliponaxis": False,
                      "hovertemplate": "%{x}: π = %{y:.3f}<extra></extra>"}],
            "layout": _base_layout(
                height=height, margin={"l": 36, "r": 6, "t": 14, "b": 40}, bargap=0.25,
                yaxis={"gridcolor": GRID, "rangemode": "tozero", "tickformat": ".0%", "fixedrange": True,
                       "range": [0, max(float(w.max(initial=0)) * 1.2, 1.5 / max(k, 1))]},
                xaxis={"type": "category", "automargin": True, "fixedrange": True,
                       "tickangle": -35 if k > 12 else 0},
                shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 1 / max(k, 1),
                         "y1": 1 / max(k, 1), "line": {"color": TEXT, "width": 1, "dash": "dot"}}])}
