"""kNN smoothing screen (2026-12-06): train the default once on class-balanced labels, then
compare the test accuracy of q(y|x) with q(y|x) mixed with the mean prediction of the image's
nearest pool images in the classifier's feature space (labeled pool images count with their
label), one step or propagated a few steps over the pool first.

usage: python docs/sweeps/knn_smoothing_2026-12-06/knn_smoothing_screen.py DATASET LABELS SEEDS OUT.jsonl
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import jax  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from model_sweep import balanced_labels, load  # noqa: E402
from ssvae import core  # noqa: E402
from ssvae.config import load_config  # noqa: E402
from ssvae.schedule import resolve, restart_epochs  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, n = sys.argv[1], int(sys.argv[2])
seeds = [int(s) for s in sys.argv[3].split(",")]
out = Path(sys.argv[4])
ds = load(dname)


def outputs(tr, images):
    model, params = tr.model, tr.eval_params
    _, probs, _, _, feats = core.batched(
        lambda x, k: core.predict_batch(params, x, k, model=model, mc_samples=0),
        images, 2048, jax.random.PRNGKey(0))
    return np.asarray(probs, np.float64), np.asarray(feats, np.float32)


for seed in seeds:
    cfg = resolve(load_config("default").with_overrides({"train.seed": seed}), ds.size)
    lab = balanced_labels(ds.truth, n, seed)
    t0 = time.perf_counter()
    tr = Trainer(cfg, ds)
    tr.train_epochs(restart_epochs(ds.size, cfg), lab)
    train_s = time.perf_counter() - t0
    p_pool, f_pool = outputs(tr, ds.images)
    p_test, f_test = outputs(tr, ds.test_images)
    mu = f_pool.mean(0)
    _, _, vt = np.linalg.svd(f_pool[:: max(1, len(f_pool) // 5000)] - mu, full_matrices=False)
    proj = vt[:32].T
    z_pool, z_test = (f_pool - mu) @ proj, (f_test - mu) @ proj
    t1 = time.perf_counter()
    nn = NearestNeighbors(n_neighbors=11).fit(z_pool)
    _, i_pool = nn.kneighbors(z_pool)
    i_pool = i_pool[:, 1:]
    _, i_test = nn.kneighbors(z_test, n_neighbors=10)
    knn_s = time.perf_counter() - t1
    known = lab >= 0
    clamp = p_pool.copy()
    clamp[known] = np.eye(ds.num_classes)[lab[known]]
    y = ds.test_truth
    rec = {"dataset": dname, "labels": n, "seed": seed, "train_s": round(train_s, 1),
           "knn_s": round(knn_s, 1), "model": float((p_test.argmax(1) == y).mean())}
    for lam in (0.5, 0.8):
        rec[f"one_step_{lam}"] = float((((1 - lam) * p_test + lam * clamp[i_test].mean(1)).argmax(1) == y).mean())
        q = clamp.copy()
        for _ in range(5):
            q = (1 - lam) * p_pool + lam * q[i_pool].mean(1)
            q[known] = clamp[known]
        rec[f"propagated_{lam}"] = float((((1 - lam) * p_test + lam * q[i_test].mean(1)).argmax(1) == y).mean())
    print(json.dumps(rec), flush=True)
    with out.open("a") as f:
        f.write(json.dumps(rec) + "\n")
