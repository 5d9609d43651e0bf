"""Test-time augmentation screen (2026-12-06): train the default once on class-balanced labels,
then compare the test accuracy of the clean prediction with predictions averaged over the clean
image and 2 / 4 / 8 / 16 of the training's random affine views, or 4 one-pixel shifts.

usage: python docs/sweeps/tta_2026-12-06/tta_screen.py DATASET LABELS SEEDS OUT.jsonl
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
import jax.numpy as jnp  # noqa: E402

from model_sweep import balanced_labels, load  # noqa: E402
from ssvae.config import load_config  # noqa: E402
from ssvae.models import to_float  # noqa: E402
from ssvae.objective import random_affine  # noqa: E402
from ssvae.schedule import resolve, restart_epochs  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, n, seeds, out = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")], sys.argv[4]
ds = load(dname)
for seed in seeds:
    cfg = resolve(load_config("default").with_overrides({"train.seed": seed}), ds.size)
    lab = balanced_labels(ds.truth, n, seed)
    t0 = time.perf_counter()
    tr = Trainer(cfg, ds)
    ep = restart_epochs(ds.size, cfg)
    tr.train_epochs(ep, lab)
    model, params = tr.model, tr.eval_params
    t = cfg.train

    @jax.jit
    def probs(params, x):
        m = model.bind({"params": params})
        xf = to_float(x)
        mean, _ = m.encode(xf)
        return jax.nn.softmax(m.classify(xf, mean, deterministic=True))

    @jax.jit
    def aug_probs(params, x, key):
        m = model.bind({"params": params})
        xf = random_affine(key, to_float(x), float(t.augment_shift), t.augment_rotate, t.augment_scale)
        mean, _ = m.encode(xf)
        return jax.nn.softmax(m.classify(xf, mean, deterministic=True))

    @jax.jit
    def shift_probs(params, x, dy, dx):
        m = model.bind({"params": params})
        xf = jnp.roll(to_float(x), (dy, dx), axis=(1, 2))
        mean, _ = m.encode(xf)
        return jax.nn.softmax(m.classify(xf, mean, deterministic=True))

    X, Y = ds.test_images, ds.test_truth
    def run(f):
        return np.concatenate([np.asarray(f(X[s:s + 2000])) for s in range(0, len(X), 2000)])
    clean = run(lambda x: probs(params, x))
    rec = {"dataset": dname, "labels": n, "seed": seed, "epochs": ep,
           "train_s": round(time.perf_counter() - t0, 1), "clean": float((clean.argmax(1) == Y).mean())}
    key = jax.random.PRNGKey(1234)
    views = []
    for k in range(16):
        views.append(run(lambda x: aug_probs(params, x, jax.random.fold_in(key, k))))
        if k + 1 in (2, 4, 8, 16):
            avg = (clean + sum(views)) / (1 + len(views))
            rec[f"affine{k+1}"] = float((avg.argmax(1) == Y).mean())
    sh = [run(lambda x: shift_probs(params, x, dy, dx)) for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))]
    rec["shift4"] = float((((clean + sum(sh)) / 5).argmax(1) == Y).mean())
    print(json.dumps(rec), flush=True)
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
