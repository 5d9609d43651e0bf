"""The README's "Does it save labels?" figure: one panel per data set, the default strategy
against labeling at random (the same model) and the plain baseline on the default's labels,
mean ± sample sd over the seeds of a merged results folder (docs/results/<name>/results.csv).

    python scripts/results_figure.py --out docs/img/does-it-save-labels.png \
        "bundled MNIST=docs/results/mnist-both" "Fashion-MNIST=docs/results/fashion-mnist-both-10seeds" ...

Drawn with plotly and rendered to PNG by Debian's headless Chromium (Plotly.toImage), so it
needs no image-export package.
"""
from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from ssvae.simulate import add_curve, read_rows, summarize  # noqa: E402

ARMS = (("auto", "the default (auto)", "#1f77b4"),
        ("random", "random, same model", "#d62728"),
        ("logreg (auto labels)", "logistic regression on the default's labels", "#7f7f7f"))


def figure(panels: list[tuple[str, Path]], cols: int = 2):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = -(-len(panels) // cols)
    summaries = [(title, summarize(read_rows(folder / "results.csv"))) for title, folder in panels]
    titles = []
    for title, s in summaries:
        seeds = sorted({s[a]["seeds"] for a, _, _ in ARMS if a in s})
        titles.append(f"{title} ({'/'.join(map(str, seeds))} seeds)")
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.08, vertical_spacing=0.14)
    shown = set()  # one legend entry per arm, from the first panel that has it
    for i, (_, s) in enumerate(summaries):
        r, c = i // cols + 1, i % cols + 1
        for arm, name, color in ARMS:
            if arm not in s:
                continue
            add_curve(fig, s[arm], name, color, row=r, col=c, marker_size=5,
                      showlegend=arm not in shown)
            shown.add(arm)
        fig.update_xaxes(title_text="labels", row=r, col=c)
        fig.update_yaxes(tickformat=".0%", row=r, col=c,
                         title_text="held-out test accuracy" if c == 1 else None)
    fig.update_layout(template="plotly_white", width=1100, height=420 * rows,
                      margin=dict(l=70, r=20, t=110, b=60),
                      legend=dict(orientation="h", x=0.5, xanchor="center", y=1 + 0.12 / rows,
                                  yanchor="bottom"))
    return fig


def render_png(fig, out: Path, scale: float = 1.5) -> None:
    from chromium import browser

    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "figure.html"
        fig.write_html(html, include_plotlyjs=True, full_html=True, div_id="fig")
        driver = browser(fig.layout.width + 50, fig.layout.height + 50)
        try:
            driver.set_script_timeout(60)
            driver.get(html.as_uri())
            url = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "Plotly.toImage(document.getElementById('fig'),"
                f" {{format: 'png', width: {fig.layout.width}, height: {fig.layout.height},"
                f" scale: {scale}}}).then(done);")
        finally:
            driver.quit()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(url.split(",", 1)[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("panels", nargs="+", metavar="TITLE=FOLDER",
                    help="a panel: its title and a results folder holding results.csv")
    ap.add_argument("--out", type=Path, required=True, help="the PNG to write")
    args = ap.parse_args(argv)
    panels = []
    for p in args.panels:
        title, sep, folder = p.partition("=")
        if not sep or not (Path(folder) / "results.csv").is_file():
            ap.error(f"{p!r} is not TITLE=FOLDER with FOLDER/results.csv")
        panels.append((title, Path(folder)))
    render_png(figure(panels), args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
