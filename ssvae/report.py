"""The run report of ``ssvae train``: history.csv, plots and REPORT.md (no JAX here).

Plots are plotly HTML written with ``include_plotlyjs="directory"`` (one shared plotly.min.js
beside them, nothing fetched at view time) and a PNG grid of images beside their
reconstructions (pillow).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ssvae.atomic import atomic_write_bytes, atomic_write_text

LOSS_TERMS = ("loss", "recon", "kl_z", "kl_y", "classification", "consistency")


def write_history_csv(path: Path, history: list[dict]) -> None:
    keys: list[str] = []
    for h in history:
        keys += [k for k in h if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    w.writerows(history)
    atomic_write_text(path, buf.getvalue())


def _write_fig(fig, path: Path) -> None:
    fig.write_html(str(path), include_plotlyjs="directory", full_html=True)


def loss_curves(history: list[dict], path: Path) -> None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    terms = [t for t in LOSS_TERMS if any(t in h for h in history)]
    extra = ["test_accuracy"] if any("test_accuracy" in h for h in history) else []
    panels = terms + extra
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=panels)
    ep = [h["epoch"] for h in history]
    for i, t in enumerate(panels):
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(go.Scatter(x=ep, y=[h.get(t) for h in history], name=f"train {t}",
                                 mode="lines", line={"color": "#1f77b4"}), r, c)
        if any(f"val_{t}" in h for h in history):
            fig.add_trace(go.Scatter(x=ep, y=[h.get(f"val_{t}") for h in history],
                                     name=f"val {t}", mode="lines", line={"color": "#ff7f0e"}), r, c)
    fig.update_layout(height=320 * rows, title="Loss terms per epoch (train: blue, validation: orange)",
                      showlegend=False)
    _write_fig(fig, path)


def latent_map(map2d: np.ndarray, colour: np.ndarray, class_names, path: Path, title: str,
               max_points: int = 6000, seed: int = 0) -> None:
    import plotly.graph_objects as go

    n = map2d.shape[0]
    idx = np.arange(n)
    if n > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
    fig = go.Figure()
    for k, name in enumerate(class_names):
        sel = idx[colour[idx] == k]
        fig.add_trace(go.Scattergl(x=map2d[sel, 0], y=map2d[sel, 1], mode="markers", name=str(name),
                                   text=[f"Serial {s}" for s in sel], marker={"size": 4}))
    fig.update_layout(title=title, height=700, width=800)
    _write_fig(fig, path)


def recon_grid(images: np.ndarray, recon: np.ndarray, path: Path, n: int = 16, seed: int = 0,
               scale: int = 3) -> None:
    """Two rows per block: originals above, reconstructions below."""
    from PIL import Image

    idx = np.sort(np.random.default_rng(seed).choice(images.shape[0], min(n, images.shape[0]),
                                                     replace=False))
    h, w, c = images.shape[1:]
    top = np.concatenate(list(images[idx]), axis=1)
    bottom = np.concatenate(list(recon[idx]), axis=1)
    sep = np.full((2, top.shape[1], c), 128, np.uint8)
    grid = np.concatenate([top, sep, bottom], axis=0)
    img = Image.fromarray(grid[..., 0] if c == 1 else grid)
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def confusion(truth: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (truth, pred), 1)
    return m


def confusion_plot(cm: np.ndarray, class_names, path: Path) -> None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = [str(c) for c in class_names]
    per_class = cm.diagonal() / np.maximum(cm.sum(1), 1)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4],
                        subplot_titles=["confusion matrix (rows: truth)", "accuracy per class"])
    fig.add_trace(go.Heatmap(z=cm, x=names, y=names, colorscale="Blues", text=cm,
                             texttemplate="%{text}", showscale=False), 1, 1)
    fig.add_trace(go.Bar(x=names, y=per_class, text=[f"{a:.0%}" for a in per_class]), 1, 2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_layout(height=550, width=1100, showlegend=False)
    _write_fig(fig, path)


def write_run_report(run_dir: Path, *, trainer, preds, dataset, config_name: str,
                     seconds: float, stopped: bool) -> Path:
    """Write history.csv, the plots and REPORT.md into ``run_dir``; returns REPORT.md."""
    run_dir = Path(run_dir)
    history = trainer.history
    write_history_csv(run_dir / "history.csv", history)
    loss_curves(history, run_dir / "loss_curves.html")
    colour_by = "ground truth" if dataset.has_truth else "predicted class"
    colour = np.asarray(dataset.truth) if dataset.has_truth else preds.pred
    latent_map(preds.map2d, colour, dataset.class_names, run_dir / "latent_map.html",
               f"Latent map ({'2-D latent' if preds.latent.shape[1] == 2 else 'PCA'}), "
               f"coloured by {colour_by}")
    recon_grid(dataset.images, preds.recon, run_dir / "reconstructions.png")
    last = history[-1] if history else {}
    lines = [f"# Run {run_dir.name}", "",
             f"- config: `{config_name}` (copied to `config.yaml`)",
             f"- data set: `{dataset.name}` — {dataset.size} images "
             f"{'×'.join(map(str, dataset.image_shape))}, {dataset.num_classes} classes",
             f"- labels used: {trainer.num_labels} (fingerprint `{trainer.labels_fingerprint}`)",
             f"- epochs: {trainer.epoch} in total, this run {seconds:.1f} s"
             f"{' (stopped early by request)' if stopped else ''}",
             f"- checkpoint: [`checkpoint.msgpack`](checkpoint.msgpack); predictions: "
             f"[`predictions.npz`](predictions.npz)", ""]
    if last:
        lines += ["## Final epoch", "", "| term | train | validation |", "|---|---|---|"]
        for t in LOSS_TERMS:
            if t in last:
                v = last.get(f"val_{t}")
                lines.append(f"| {t} | {last[t]:.3f} | {'' if v is None else f'{v:.3f}'} |")
        lines.append("")
    lines += ["## Plots", "",
              "- [loss curves](loss_curves.html) — every loss term, train and validation",
              f"- [latent map](latent_map.html) — coloured by {colour_by}",
              "- images (top) and their reconstructions (bottom):", "",
              "  ![reconstructions](reconstructions.png)", ""]
    if dataset.has_test:
        pred = trainer.test_predictions()
        truth = np.asarray(dataset.test_truth)
        cm = confusion(truth, pred, dataset.num_classes)
        confusion_plot(cm, dataset.class_names, run_dir / "confusion_matrix.html")
        acc = float((pred == truth).mean())
        lines += [f"## Test split ({truth.size} held-out images)", "",
                  f"Accuracy **{acc:.1%}**. [Confusion matrix and per-class accuracy]"
                  f"(confusion_matrix.html).", "", "| class | images | accuracy |", "|---|---|---|"]
        for k, name in enumerate(dataset.class_names):
            n = int(cm[k].sum())
            lines.append(f"| {name} | {n} | {cm[k, k] / n:.1%} |" if n else f"| {name} | 0 | – |")
        lines.append("")
    path = run_dir / "REPORT.md"
    atomic_write_text(path, "\n".join(lines))
    return path
