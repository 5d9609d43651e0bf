"""Small synthetic data sets and predictions for the dashboard tests (no JAX, no real data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dashboard.headless import wait_until  # noqa: F401  (re-exported for the tests)
from ssvae.data import Dataset
from ssvae.predictions import Predictions
from ssvae.ranking import probability_scores


def synthetic_dataset(n: int = 300, k: int = 10, side: int = 28, seed: int = 0,
                      class_names: tuple[str, ...] | None = None, root: Path | None = None) -> Dataset:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, size=n)
    images = np.zeros((n, side, side, 1), dtype=np.uint8)
    for i, c in enumerate(truth):  # a bar whose position encodes the class, plus noise
        images[i, :, (c * side) // k:(c * side) // k + max(2, side // k), 0] = 200
    images = np.clip(images + rng.integers(0, 40, size=images.shape), 0, 255).astype(np.uint8)
    names = class_names or tuple(str(i) for i in range(k))
    return Dataset(name="synthetic", images=images, class_names=names, source="synthetic",
                   truth=truth.astype(np.int64), labels_dir=root)


def synthetic_predictions(ds: Dataset, seed: int = 1, latent_dim: int = 8, num_labels: int = 20) -> Predictions:
    """A trained model's snapshot (``num_labels=0``: trained without labels, no classifier)."""
    rng = np.random.default_rng(seed)
    n, k = ds.size, ds.num_classes
    logits = rng.normal(size=(n, k)).astype(np.float32) * 2
    if ds.truth is not None:
        logits[np.arange(n), ds.truth] += 2.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    probs = probs.astype(np.float32)
    latent = rng.normal(size=(n, latent_dim)).astype(np.float32)
    angle = (ds.truth if ds.truth is not None else rng.integers(0, k, n)) * (2 * np.pi / k)
    map2d = np.stack([np.cos(angle) * 3, np.sin(angle) * 3], 1) + rng.normal(size=(n, 2)) * 0.6
    scores = probability_scores(probs)
    scores["bald"] = rng.random(n).astype(np.float32)
    recon = (255 - ds.images).astype(np.uint8)
    return Predictions(latent=latent, map2d=map2d.astype(np.float32), probs=probs, recon=recon,
                       scores=scores, meta={"epoch": 3, "num_labels": num_labels})


def map_only_predictions(ds: Dataset, seed: int = 1) -> Predictions:
    """What the worker writes before any model: the map of the images, nothing else."""
    p = synthetic_predictions(ds, seed)
    return Predictions.map_only(p.map2d, meta={"embedding": "synthetic"}, embedding=p.latent)



def tab_session(app):
    """The session (selection, map selection, undo) of the newest browser tab on ``app``;
    the app's own one while no tab has called back yet."""
    sessions = [s for sid, s in app.ssvae.state.sessions.items() if sid is not None]
    return sessions[-1] if sessions else app.ssvae.state.current
