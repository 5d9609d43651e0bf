"""Linear probe (2026-12-06): is the representation the SSVAE learns from the images alone worth
more than the pixels to a classifier with 100 / 200 labels?

Trains the default label-free (the page's first model: no labels, seed 0) for EPOCHS epochs on
DATASET's pool, then fits scikit-learn's logistic regression (standardised inputs,
max_iter 3000) on class-balanced labels (scripts/model_sweep.py's draw, seeds 0, 1, 2) to each
of: the encoder's mean z (16), its two hidden layers before the ReLU (512, 256), the trunk's
output after it (256), and the pixels; prints one JSON line per (labels, features) with the
test accuracy per seed (results.jsonl is that output; "MLP_0.Dense_0" is the first hidden
layer, "MLP_0" the trunk's output).

usage: python docs/sweeps/linear_probe_2026-12-06/linear_probe.py DATASET EPOCHS
"""
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import jax  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from model_sweep import balanced_labels, load  # noqa: E402
from ssvae.config import load_config  # noqa: E402
from ssvae.models import to_float  # noqa: E402
from ssvae.schedule import resolve  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, epochs = sys.argv[1], int(sys.argv[2])
ds = load(dname)
tr = Trainer(resolve(load_config("default").with_overrides({"train.seed": 0}), ds.size), ds)
tr.train_epochs(epochs, np.full(ds.size, -1, np.int64))
model, params = tr.model, tr.eval_params


@jax.jit
def encoder_outputs(images):
    (mean, _), state = model.apply({"params": params}, to_float(images), method=model.encode,
                                   capture_intermediates=True)
    return mean, state["intermediates"]["encoder"]


def features(images):
    parts = []
    for s in range(0, len(images), 2000):
        mean, inter = encoder_outputs(images[s:s + 2000])
        named = {"z": np.asarray(mean)}
        for path, v in jax.tree_util.tree_leaves_with_path(inter):
            keys = [p.key for p in path if hasattr(p, "key") and p.key != "__call__"]
            if v.ndim == 2 and v.shape[1] in (256, 512) and keys:
                named[".".join(keys)] = np.asarray(v)
        parts.append(named)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


pool, test = features(ds.images), features(ds.test_images)
pool["pixels"] = ds.images.reshape(ds.size, -1) / 255.0
test["pixels"] = ds.test_images.reshape(len(ds.test_images), -1) / 255.0
for n in (100, 200):
    for name in pool:
        accs = []
        for seed in (0, 1, 2):
            lab = balanced_labels(ds.truth, n, seed)
            li = np.flatnonzero(lab >= 0)
            sc = StandardScaler().fit(pool[name])
            clf = LogisticRegression(max_iter=3000).fit(sc.transform(pool[name][li]), lab[li])
            accs.append(float((clf.predict(sc.transform(test[name])) == ds.test_truth).mean()))
        print(json.dumps({"dataset": dname, "labels": n, "features": name,
                          "test": [round(a * 100, 1) for a in accs],
                          "mean": round(100 * float(np.mean(accs)), 1)}), flush=True)
