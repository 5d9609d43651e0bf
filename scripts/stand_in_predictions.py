"""Write a stand-in predictions snapshot (PCA, no JAX) so the dashboard can be tried and
screenshot before a model is trained.

The 2-D map and the 16-D latent are principal components of the images; the class
probabilities come from nearest class centroids in that latent space, fitted on the data set's
ground truth — so they are *not* a model of the user's labels and are only for a look at the
page. ``meta.stand_in`` says so, and the first real training replaces the file.

    python scripts/stand_in_predictions.py --dataset fashion-mnist [--out PATH] [--map-only]

``--map-only`` writes what the worker writes before any model instead: the 2-D map of the
images (here their first two principal components) and nothing else.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ssvae.data import load_dataset  # noqa: E402
from ssvae.workspace import model_dir  # noqa: E402
from ssvae.predictions import Predictions  # noqa: E402
from ssvae.ranking import probability_scores  # noqa: E402


def stand_in(ds, dims: int = 16, temperature: float = 0.04, seed: int = 0) -> Predictions:
    x = ds.images.reshape(ds.size, -1).astype(np.float32) / 255.0
    mean = x.mean(axis=0)
    xc = x - mean
    cov = (xc.T @ xc) / len(x)
    vals, vecs = np.linalg.eigh(cov)
    comps = vecs[:, ::-1][:, :dims].astype(np.float32)
    z = xc @ comps
    z /= z[:, :1].std() + 1e-6
    if ds.truth is not None:
        centroids = np.stack([z[ds.truth == c].mean(axis=0) for c in range(ds.num_classes)])
    else:
        centroids = z[np.random.default_rng(seed).choice(ds.size, ds.num_classes, replace=False)]
    d2 = ((z[:, None, :] - centroids[None]) ** 2).sum(-1)
    logits = -d2 / (temperature * dims)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs = (probs / probs.sum(1, keepdims=True)).astype(np.float32)
    recon = np.clip(((xc @ comps) @ comps.T + mean) * 255, 0, 255).astype(np.uint8).reshape(ds.images.shape)
    scores = probability_scores(probs)
    rng = np.random.default_rng(seed)
    scores["bald"] = (scores["entropy"] * rng.uniform(0.2, 1.0, ds.size)).astype(np.float32)
    return Predictions(latent=z.astype(np.float32), map2d=z[:, :2].copy(), probs=probs, recon=recon,
                       scores=scores, meta={"stand_in": "pca + nearest centroid", "epoch": None})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--out", default=None, help="default: the data set's selected model, "
                                                  "artifacts/workspace/<dataset>/models/<name>/predictions.npz")
    ap.add_argument("--map-only", action="store_true",
                    help="a map-only snapshot (no model: no classes, scores or reconstructions)")
    args = ap.parse_args(argv)
    ds = load_dataset(args.dataset)
    out = Path(args.out) if args.out else model_dir(ds.name) / "predictions.npz"
    preds = stand_in(ds)
    if args.map_only:
        preds = Predictions.map_only(preds.map2d, meta={"stand_in": "pca"})
    preds.save(out)
    kind = "map-only" if args.map_only else "stand-in predictions"
    print(f"wrote a {kind} snapshot for {ds.name} ({ds.size} images) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
