"""Statistics: labeled / total, labels per class, labels over time."""
from __future__ import annotations

from dash import Input, Output, State

from dashboard.callbacks import need
from dashboard.figures import class_counts_figure, history_figure


def register(app, ctx) -> None:
    state = ctx.state

    @app.callback(Output("stats-summary", "children"), Output("stats-progress", "value"),
                  Output("stats-progress-text", "children"), Output("stats-classes", "figure"),
                  Output("stats-history", "figure"), Output("seen-stats", "data"),
                  Input("versions", "data"), State("seen-stats", "data"))
    def render_stats(_versions, seen):
        with ctx.lock:
            need(state, seen, ("labels",))
            n, total = len(state.labels), state.size
            pct = 100.0 * n / total if total else 0.0
            skipped = state.skipped_count()
            return (f"{n:,} of {total:,} labeled ({pct:.2f}%)"
                    + (f" · {skipped:,} skipped" if skipped else ""), pct,
                    f"{n:,} / {total:,} labeled",
                    class_counts_figure(state), history_figure(state),
                    {"labels": state.versions["labels"]})
