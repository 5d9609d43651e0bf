"""Train several configurations on the same data and labels and compare them side by side.

Each configuration is trained from scratch with the same :class:`ssvae.train.Trainer` the CLI
and the dashboard use, once per seed (``train.seed``), on exactly the same labels. The report
(``REPORT.md``) holds a table of test accuracy, final losses and seconds per epoch as mean ±
standard deviation over the seeds; ``losses.html`` overlays the loss curves and ``maps.html``
shows each configuration's latent map (first seed) side by side. Both HTML files embed
plotly.js, so they open offline.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssvae.config import Config
from ssvae.data import Dataset
from ssvae.errors import SSVAEError

#: the final-epoch terms shown in the table (those a history has)
FINAL_TERMS = ("loss", "recon", "kl_z", "kl_y", "classification", "consistency", "val_loss")


@dataclass
class ModelResult:
    name: str
    seed: int
    test_accuracy: float | None
    seconds_per_epoch: float
    final: dict[str, float]
    history: list[dict]
    map2d: np.ndarray | None = field(default=None, repr=False)


def unique_names(paths: list[str]) -> list[str]:
    """Config names for the table: the file stem, numbered where two stems are the same."""
    stems = [Path(p).stem for p in paths]
    out = []
    for i, s in enumerate(stems):
        out.append(s if stems.count(s) == 1 else f"{s} ({stems[:i + 1].count(s)})")
    return out


def ground_truth_labels(truth: np.ndarray, n: int, num_classes: int, seed: int = 0) -> dict[int, int]:
    """``n`` labels from the ground truth, spread over the classes as evenly as they allow."""
    if not 1 <= n <= truth.size:
        raise SSVAEError(f"--labels must be a labels.csv or a number of labels between 1 and "
                         f"the pool size ({truth.size}); got {n}.")
    rng = np.random.default_rng(seed)
    pools = [list(rng.permutation(np.flatnonzero(truth == c))) for c in range(num_classes)]
    chosen: list[int] = []
    while len(chosen) < n:
        for pool in pools:
            if pool and len(chosen) < n:
                chosen.append(int(pool.pop()))
    return {s: int(truth[s]) for s in chosen}


def compare_configs(configs: list[tuple[str, Config]], dataset: Dataset, labels: dict[int, int],
                    seeds: tuple[int, ...], epochs: int | None = None, progress=None) -> list[ModelResult]:
    """Train every (config, seed) on ``labels``; ``progress(done, total, text)`` after each."""
    from ssvae.train import Trainer

    if not configs:
        raise SSVAEError("give at least one configuration to compare.")
    if not seeds:
        raise SSVAEError("give at least one seed (--seeds must be at least 1).")
    if epochs is not None and epochs < 1:
        raise SSVAEError(f"--epochs must be at least 1 (got {epochs}).")
    results = []
    total, done = len(configs) * len(seeds), 0
    for name, cfg in configs:
        for seed in seeds:
            trainer = Trainer(cfg.with_overrides({"train.seed": seed}), dataset)
            trainer.train_epochs(epochs or cfg.train.epochs, labels)
            preds = trainer.predict()
            hist = [dict(h) for h in trainer.history]
            final = {k: float(hist[-1][k]) for k in FINAL_TERMS if hist and k in hist[-1]}
            # the median epoch: the first epoch of a process also compiles the step
            per_epoch = float(np.median([h["seconds"] for h in hist])) if hist else float("nan")
            results.append(ModelResult(name, seed, preds.meta.get("test_accuracy"), per_epoch,
                                       final, hist, preds.map2d if seed == seeds[0] else None))
            done += 1
            if progress:
                acc = results[-1].test_accuracy
                progress(done, total, f"{name} seed {seed}: "
                                      + ("no test split" if acc is None else f"acc {acc:.3f}"))
    return results


def _mean_std(values, fmt: str = "{:.4f}") -> str:
    vals = np.array([v for v in values if v is not None], dtype=float)
    if vals.size == 0:
        return "—"
    if vals.size == 1:
        return fmt.format(vals[0])
    return f"{fmt.format(vals.mean())} ± {fmt.format(vals.std())}"


def render_table(results: list[ModelResult]) -> list[str]:
    names = list(dict.fromkeys(r.name for r in results))
    # a term that is 0 everywhere is switched off (e.g. consistency in the default config)
    terms = [k for k in FINAL_TERMS if any(r.final.get(k) for r in results)]
    lines = ["| config | seeds | test accuracy | s / epoch | " + " | ".join(f"final {k}" for k in terms) + " |",
             "|---|---|---|---|" + "---|" * len(terms)]
    for name in names:
        mine = [r for r in results if r.name == name]
        cells = [str(len(mine)),
                 _mean_std([None if r.test_accuracy is None else 100 * r.test_accuracy for r in mine],
                           "{:.1f}") + (" %" if mine[0].test_accuracy is not None else ""),
                 _mean_std([r.seconds_per_epoch for r in mine], "{:.2f}")]
        cells += [_mean_std([r.final.get(k) for r in mine], "{:.3f}") for k in terms]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def write_comparison(results: list[ModelResult], dataset: Dataset, labels: dict[int, int],
                     folder: Path, labels_note: str, notes: list[str] | None = None) -> Path:
    """Write REPORT.md, losses.html and maps.html into ``folder``; returns REPORT.md."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    folder.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(r.name for r in results))
    seeds = sorted({r.seed for r in results})
    lines = [f"# Model comparison on {dataset.name}", "",
             f"- {len(labels)} labels ({labels_note}), the same for every configuration and seed",
             f"- seeds {', '.join(map(str, seeds))} (`train.seed`); cells are mean ± standard "
             "deviation over the seeds",
             "- test accuracy on the held-out test split" if dataset.has_test else
             "- this data set has no test split, so there is no test accuracy",
             "- s / epoch: the median epoch (the first epoch of a process also compiles)",
             *[f"- {n}" for n in notes or []], "",
             *render_table(results), "",
             "Loss curves overlaid: [losses.html](losses.html) · latent maps side by side: "
             "[maps.html](maps.html)", ""]
    report = folder / "REPORT.md"
    report.write_text("\n".join(lines))

    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"]
    panels = [k for k in ("loss", "val_loss") if any(k in h for r in results for h in r.history)]
    fig = make_subplots(rows=1, cols=max(1, len(panels)),
                        subplot_titles=[{"loss": "training loss", "val_loss": "validation loss "
                                         "(unlabeled bound, held-out images)"}[p] for p in panels])
    for i, name in enumerate(names):
        for r in (r for r in results if r.name == name):
            for j, key in enumerate(panels):
                fig.add_scatter(x=[h.get("epoch", n + 1) for n, h in enumerate(r.history)],
                                y=[h.get(key) for h in r.history], mode="lines",
                                name=f"{name} (seed {r.seed})", legendgroup=f"{name}{r.seed}",
                                showlegend=j == 0, line=dict(color=palette[i % len(palette)]),
                                row=1, col=j + 1)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title="Loss curves (one colour per configuration, one line per seed)",
                      template="plotly_white", height=480)
    fig.write_html(folder / "losses.html", include_plotlyjs=True, full_html=True)

    maps = [r for r in results if r.map2d is not None]
    fig = make_subplots(rows=1, cols=max(1, len(maps)), subplot_titles=[r.name for r in maps])
    n = dataset.size
    idx = np.arange(n) if n <= 6000 else np.sort(np.random.default_rng(0).choice(n, 6000, replace=False))
    colour = np.asarray(dataset.truth)[idx] if dataset.has_truth else None
    from plotly.colors import qualitative

    class_colours = qualitative.Plotly if dataset.num_classes <= 10 else qualitative.Alphabet
    for j, r in enumerate(maps):
        if colour is None:
            fig.add_trace(go.Scattergl(x=r.map2d[idx, 0], y=r.map2d[idx, 1], mode="markers",
                                       marker=dict(size=3), showlegend=False), row=1, col=j + 1)
            continue
        for k, cname in enumerate(dataset.class_names):
            sel = idx[colour == k]
            fig.add_trace(go.Scattergl(x=r.map2d[sel, 0], y=r.map2d[sel, 1], mode="markers",
                                       name=str(cname), legendgroup=str(cname), showlegend=j == 0,
                                       marker=dict(size=3, color=class_colours[k % len(class_colours)])),
                          row=1, col=j + 1)
    fig.update_layout(title="Latent maps (first seed), coloured by "
                            + ("ground truth" if colour is not None else "nothing: no ground truth"),
                      template="plotly_white", height=520, width=max(600, 480 * len(maps)))
    fig.write_html(folder / "maps.html", include_plotlyjs=True, full_html=True)
    return report
