"""Mixture-prior diagnostics: which component stands for which class, and the card that shows it.

The training worker writes π (the mixture weights) and each image's most likely component into
the predictions snapshot (:func:`ssvae.predict.mixture_components`); this module only counts,
in numpy, and lays the card out. The card is hidden for a model with the normal prior.
"""
from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from dashboard.figures import component_palette, empty_figure, tied_mixture
from dashboard.state import AppState

#: a component is *shared* when a second class holds at least this share of its labeled images
SHARED_SHARE = 0.2
#: … and at least this many of them (one stray label does not make a component shared)
SHARED_MIN = 2


@dataclass
class ComponentRow:
    component: int
    weight: float          # π_c
    images: int            # images whose most likely component is c
    counts: np.ndarray     # labeled images per class in c (C)
    stands_for: int | None  # the class most of its labeled images have; None without labels
    purity: float          # that class's share of its labeled images (0 without labels)
    flags: tuple[str, ...]  # "empty", "no labels", "shared", "split", "not its class"

    @property
    def labeled(self) -> int:
        return int(self.counts.sum())


def component_table(component: np.ndarray, weights: np.ndarray, labels: np.ndarray,
                    num_classes: int, tied: bool) -> list[ComponentRow]:
    """One row per mixture component: its weight, its images, the labeled images per class,
    the class it stands for and what is wrong with it.

    ``labels``: one entry per image, the class or −1 when unlabeled. Flags:
    *empty* — no image has it as most likely component (a dead component);
    *no labels* — images, but none labeled yet, so what it stands for is unknown;
    *shared* — a second class holds ≥ :data:`SHARED_SHARE` (and ≥ :data:`SHARED_MIN`) of
    its labeled images; *split* — its class is also the majority of another component;
    *not its class* (tied mixture: component c is meant to be class c) — its labeled images
    are mostly another class.
    """
    k = int(len(weights))
    component = np.asarray(component, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    sizes = np.bincount(component, minlength=k)[:k]
    lab = labels >= 0
    counts = np.zeros((k, num_classes), np.int64)
    np.add.at(counts, (component[lab], labels[lab]), 1)
    majority = [int(counts[c].argmax()) if counts[c].sum() else None for c in range(k)]
    claimed = np.bincount([m for m in majority if m is not None], minlength=num_classes)
    rows = []
    for c in range(k):
        n = int(counts[c].sum())
        flags = []
        if sizes[c] == 0:
            flags.append("empty")
        elif n == 0:
            flags.append("no labels")
        purity = float(counts[c].max() / n) if n else 0.0
        if n:
            second = np.sort(counts[c])[-2] if num_classes > 1 else 0
            if second >= SHARED_MIN and second >= SHARED_SHARE * n:
                flags.append("shared")
            if claimed[majority[c]] > 1:
                flags.append("split")
            if tied and majority[c] != c:
                flags.append("not its class")
        rows.append(ComponentRow(c, float(weights[c]), int(sizes[c]), counts[c], majority[c],
                                 purity, tuple(flags)))
    return rows


def component_names(state: AppState) -> list[str]:
    """Axis names of the components: ``c3`` (with the class of a tied mixture: ``c3 · cat``)."""
    k = state.predictions.num_components
    if tied_mixture(state):
        return [f"{c}" if name == str(c) else f"{c} · {name}"
                for c, name in zip(range(k), state.class_names)]
    return [f"c{c}" for c in range(k)]


def expects_mixture(state: AppState) -> bool:
    """The model being trained has a mixture prior (diagnostics come with its first run)."""
    worker = state.worker
    return worker is not None and getattr(worker.config.model, "prior", "normal") == "mixture"


FLAG_COLORS = {"empty": "secondary", "no labels": "light", "shared": "warning", "split": "info",
               "not its class": "danger"}
FLAG_HELP = {"empty": "no image has this component as its most likely one",
             "no labels": "none of its images is labeled yet",
             "shared": "its labeled images come from several classes",
             "split": "its class is also the majority of another component",
             "not its class": "its labeled images are mostly another class than its own"}


def table_view(state: AppState, rows: list[ComponentRow]):
    """The component × class table: labeled images per class, the class each component stands
    for, and its flags; cells shaded by their share of the component's labeled images."""
    names = component_names(state)
    colors = component_palette(len(rows), tied_mixture(state))
    head = html.Thead(html.Tr(
        [html.Th("component"), html.Th("π", title="mixture weight"),
         html.Th("images", title="images whose most likely component this is")]
        + [html.Th(n, className="text-center") for n in state.class_names]
        + [html.Th("stands for"), html.Th("")]))
    body = [table_row(state, r, name, color) for r, name, color in zip(rows, names, colors)]
    return dbc.Table([head, html.Tbody(body)], size="sm", borderless=True, hover=True,
                     class_name="mb-0 small mixture-table")


def unclaimed_classes(rows: list[ComponentRow], num_classes: int) -> list[int]:
    """Classes with labeled images that no component stands for (the majority of none)."""
    labeled = np.sum([r.counts for r in rows], axis=0) if rows else np.zeros(num_classes, int)
    claimed = {r.stands_for for r in rows}
    return [c for c in range(num_classes) if labeled[c] and c not in claimed]


def table_row(state: AppState, r: ComponentRow, name: str, color: str) -> html.Tr:
    n = r.labeled
    cells = []
    for v in r.counts:
        share = v / n if n else 0.0
        style = {"backgroundColor": f"rgba(76,120,168,{0.12 + 0.6 * share:.2f})"} if v else None
        cells.append(html.Td(str(v), style=style, className="text-center") if v else
                     html.Td("·", className="text-center text-muted"))
    stands = ("–" if r.stands_for is None else f"{state.class_names[r.stands_for]} ({r.purity:.0%})")
    badges = [dbc.Badge(f, color=FLAG_COLORS.get(f, "secondary"), title=FLAG_HELP.get(f, ""),
                        text_color="dark" if f in ("no labels", "shared") else None,
                        class_name="me-1 mixture-flag") for f in r.flags]
    return html.Tr([html.Td([html.I(className="swatch me-1", style={"background": color}), name],
                            className="text-nowrap"),
                    html.Td(f"{r.weight:.2f}"), html.Td(f"{r.images:,}")]
                   + cells + [html.Td(stands, className="text-nowrap"), html.Td(badges)])


def row_digest(r: ComponentRow) -> str:
    """What a drawn row shows, in short: a tab redraws only the rows whose digest moved."""
    return f"{r.images}|{','.join(map(str, r.counts.tolist()))}|{r.stands_for}|{'/'.join(r.flags)}"


def summary_text(rows: list[ComponentRow]) -> str:
    flagged = {f: sum(f in r.flags for r in rows) for f in ("empty", "shared", "split", "not its class")}
    parts = [f"{len(rows)} components"]
    parts += [f"{n} {f}" for f, n in flagged.items() if n]
    return " · ".join(parts)


def mixture_card(state: AppState) -> dbc.Card:
    """The card's frame; :mod:`dashboard.callbacks.mixture` fills it and shows or hides it."""
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.H6("Mixture prior", className="mb-0"),
            html.Span(id="mixture-summary", className="small text-muted"),
        ], className="d-flex justify-content-between align-items-baseline")),
        dbc.CardBody([
            html.Div(id="mixture-notice", className="small text-muted"),
            dbc.Row([
                dbc.Col([html.Div("Mixture weights π per component (dotted: uniform 1/K)",
                                  className="small text-muted"),
                         dcc.Graph(id="mixture-weights", figure=empty_figure("", 210),
                                   config={"displayModeBar": False})], md=4),
                dbc.Col([html.Div("Component × class, from the labeled images (most likely "
                                  "component per image)", className="small text-muted"),
                         html.Div(id="mixture-table", className="mixture-table-wrap")], md=8),
            ], id="mixture-body", class_name="g-2"),
        ], class_name="p-3"),
        dcc.Store(id="seen-mixture"),
    ], id="mixture-card", class_name="shadow-sm mb-3" + ("" if state.has_mixture or expects_mixture(state)
                                                          else " d-none"))
