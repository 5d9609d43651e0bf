"""The selected image: large, beside its reconstruction, with probabilities and its label."""
from __future__ import annotations

from dash import ALL, Input, Output, State, html

from dashboard.callbacks import SESSION, need
from dashboard.figures import probability_figure
from dashboard.text import score_words

PARTS = ("selection", "labels", "predictions")
BLANK = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("sel-image", "src"), Output("sel-recon", "src"),
                  Output("sel-recon-caption", "children"), Output("sel-recon", "className"),
                  Output("sel-title", "children"),
                  Output("sel-label", "children"), Output("sel-pred", "children"),
                  Output("sel-probs", "figure"), Output("shown-serial", "data"),
                  Output({"type": "label-btn", "index": ALL}, "outline"),
                  Output("seen-selected", "data"),
                  Input("versions", "data"), State("seen-selected", "data"), SESSION)
    def render_selected(_versions, seen, sid):
        with ctx.session(sid):
            need(state, seen, PARTS)
            s = state.selected
            k = len(state.class_names)
            seen_now = {p: state.versions[p] for p in PARTS}
            if s is None:
                return (BLANK, BLANK, "reconstruction", "pixel-image empty-image", "nothing selected",
                        html.Span("—", className="text-muted"),
                        "Click a point, a thumbnail, or press → to start.",
                        probability_figure(state, None), None, [True] * k, seen_now)
            label = state.labels.get(s)
            label_view = (html.Span(state.class_names[label], className=f"label-chip cls-{label % 10}")
                          if label is not None else
                          html.Span("skipped", className="text-muted fst-italic skipped-chip")
                          if state.labels.is_skipped(s) else html.Span("unlabeled", className="text-muted"))
            recon = ctx.recon_image(s)
            p = state.predictions
            pred = ("no model yet" if not state.has_model
                    else "the classifier has no labels yet: no prediction")
            if state.classifier_trained:
                c = int(p.pred[s])
                pred = f"model: {state.class_names[c]} ({p.probs[s, c]:.0%})"
                name = state.score_name()
                if name:
                    pred += f" · {score_words(name)} {float(p.scores[name][s]):.3f}"
            return (ctx.images(s), recon or BLANK,
                    "reconstruction" if recon else "reconstruction after training",
                    "pixel-image" if recon else "pixel-image empty-image",
                    f"Serial {s}", label_view, pred, probability_figure(state, s), s,
                    [label != i for i in range(k)], seen_now)
