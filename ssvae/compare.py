"""Train several configurations on the same data and labels and compare them side by side."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssvae.config import Config
from ssvae.data import Dataset


@dataclass
class ModelResult:
    name: str
    seed: int
    test_accuracy: float | None
    seconds_per_epoch: float
    final: dict[str, float]
    history: list[dict]
    map2d: np.ndarray | None = field(default=None, repr=False)


def compare_configs(configs: list[tuple[str, Config]], dataset: Dataset, labels: dict[int, int],
                    seeds: tuple[int, ...], epochs: int | None = None, progress=None) -> list[ModelResult]:
    from ssvae.train import Trainer

    results = []
    total, done = len(configs) * len(seeds), 0
    for name, cfg in configs:
        for seed in seeds:
            trainer = Trainer(cfg.with_overrides({"train.seed": seed}), dataset)
            n = epochs or cfg.train.epochs
            t0 = time.perf_counter()
            trainer.train_epochs(n, labels)
            seconds = time.perf_counter() - t0
            preds = trainer.predict()
            hist = [dict(h) for h in trainer.history]
            final = {k: float(v) for k, v in (hist[-1] if hist else {}).items()
                     if isinstance(v, (int, float)) and k != "epoch"}
            results.append(ModelResult(name, seed, preds.meta.get("test_accuracy"),
                                       seconds / max(1, len(hist)), final, hist,
                                       preds.map2d if seed == seeds[0] else None))
            done += 1
            if progress:
                progress(done, total, f"{name} seed {seed}: acc {results[-1].test_accuracy}")
    return results


def _mean_std(values) -> str:
    vals = np.array([v for v in values if v is not None], dtype=float)
    if vals.size == 0:
        return "—"
    return f"{vals.mean():.4f} ± {vals.std():.4f}" if vals.size > 1 else f"{vals[0]:.4f}"


def write_comparison(results: list[ModelResult], dataset: Dataset, labels: dict[int, int],
                     folder: Path, labels_note: str) -> Path:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    folder.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(r.name for r in results))
    loss_keys = sorted({k for r in results for k in r.final if "loss" in k})
    lines = [f"# Model comparison on {dataset.name}", "",
             f"{len(labels)} labels ({labels_note}); mean ± spread (std) over "
             f"{len({r.seed for r in results})} seed(s).", "",
             "Loss curves: [losses.html](losses.html) · latent maps: [maps.html](maps.html)", "",
             "| config | test accuracy | s / epoch | " + " | ".join(loss_keys) + " |",
             "|---|---|---|" + "---|" * len(loss_keys)]
    for name in names:
        mine = [r for r in results if r.name == name]
        cells = [_mean_std(r.test_accuracy for r in mine), _mean_std(r.seconds_per_epoch for r in mine)]
        cells += [_mean_std(r.final.get(k) for r in mine) for k in loss_keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    (folder / "REPORT.md").write_text("\n".join(lines) + "\n")

    fig = go.Figure()
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]
    for i, name in enumerate(names):
        for r in (r for r in results if r.name == name):
            for key, dash in (("train_loss", "solid"), ("val_loss", "dot")):
                ys = [h.get(key) for h in r.history]
                if any(y is not None for y in ys):
                    fig.add_scatter(x=[h.get("epoch", j + 1) for j, h in enumerate(r.history)], y=ys,
                                    name=f"{name} {key} (seed {r.seed})", legendgroup=name,
                                    line=dict(color=palette[i % len(palette)], dash=dash))
    fig.update_layout(title="Loss curves", xaxis_title="epoch", yaxis_title="loss",
                      template="plotly_white")
    fig.write_html(folder / "losses.html", include_plotlyjs="directory")

    maps = [r for r in results if r.map2d is not None]
    fig = make_subplots(rows=1, cols=max(1, len(maps)), subplot_titles=[r.name for r in maps])
    color = dataset.truth if dataset.truth is not None else np.zeros(dataset.size)
    for j, r in enumerate(maps):
        fig.add_trace(go.Scattergl(x=r.map2d[:, 0], y=r.map2d[:, 1], mode="markers",
                                   marker=dict(size=3, color=color, colorscale="Turbo"),
                                   showlegend=False, name=r.name), row=1, col=j + 1)
    fig.update_layout(title="Latent maps coloured by ground truth", template="plotly_white",
                      height=500, width=480 * max(1, len(maps)))
    fig.write_html(folder / "maps.html", include_plotlyjs="directory")
    return folder / "REPORT.md"
