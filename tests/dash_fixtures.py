"""Small synthetic data sets and predictions for the dashboard tests (no JAX, no real data),
and the page's workspace, state and headless tabs built on them. The fixtures ``ds``, ``ws``
and ``page`` (tests/conftest.py) use these."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dashboard.app import create_app, open_state
from dashboard.headless import HeadlessPage, wait_until  # noqa: F401  (re-exported for the tests)
from dashboard.state import Workspace
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


def synthetic_predictions(ds: Dataset, seed: int = 1, latent_dim: int = 8, num_labels: int = 20,
                          start_labels: int | None = None) -> Predictions:
    """A trained model's snapshot (``num_labels=0``: trained without labels, no classifier;
    ``start_labels``: the labels its weights began with, not recorded when None)."""
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
                       scores=scores, meta={"epoch": 3, "num_labels": num_labels,
                                            **({} if start_labels is None else {"start_labels": start_labels})})


def map_only_predictions(ds: Dataset, seed: int = 1) -> Predictions:
    """What the worker writes before any model: the map of the images, nothing else."""
    p = synthetic_predictions(ds, seed)
    return Predictions.map_only(p.map2d, meta={"embedding": "synthetic"}, embedding=p.latent)



def tab_session(app):
    """The session (selection, map selection, undo) of the newest browser tab on ``app``;
    the app's own one while no tab has called back yet."""
    sessions = [s for sid, s in app.ssvae.state.sessions.items() if sid is not None]
    return sessions[-1] if sessions else app.ssvae.state.current


def page_workspace(root: Path, preds: Predictions | None = None, selected_model: bool = False) -> Path:
    """``root/ws``, a page's workspace folder, with ``preds`` as the page's predictions: in the
    single-model layout (``ws/predictions.npz``, migrated when the page opens) or, with
    ``selected_model``, in the selected model's folder."""
    ws = root / "ws"
    ws.mkdir(parents=True, exist_ok=True)
    if preds is not None:
        preds.save(Workspace(ws).predictions if selected_model else ws / "predictions.npz")
    return ws


def opened(ds: Dataset, ws: Path, root: Path):
    """The page's state and dispatcher on ``ws`` with labels in ``root/labels.csv``, as a
    server start opens them (a second call is a restart)."""
    return open_state(ds, root / "labels.csv", ws)


def tab(app) -> HeadlessPage:
    """A browser tab on ``app`` that has loaded the page."""
    page = HeadlessPage(app)
    page.load()
    return page


def open_page(root: Path, ds: Dataset, preds: Predictions | None = None, selected_model: bool = False):
    """An app on a fresh workspace under ``root`` and a tab that loads it:
    ``(app, page, the load's action)``."""
    app = create_app(ds, root / "labels.csv", page_workspace(root, preds, selected_model))
    page = HeadlessPage(app)
    return app, page, page.load()
