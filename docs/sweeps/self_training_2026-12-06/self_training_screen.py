"""Self-training screen (2026-12-06): train the default once on class-balanced labels, take its
K most confident predictions per class on the unlabeled pool as extra labels, train a fresh
model on both, and compare test accuracy. Stage 1 stands in for the loop's previous model.

usage: python docs/sweeps/self_training_2026-12-06/self_training_screen.py DATASET LABELS SEEDS K[,K...] OUT.jsonl
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

from model_sweep import balanced_labels, load  # noqa: E402
from ssvae import core  # noqa: E402
from ssvae.config import load_config  # noqa: E402
from ssvae.schedule import resolve, restart_epochs  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, n = sys.argv[1], int(sys.argv[2])
seeds = [int(s) for s in sys.argv[3].split(",")]
ks = [int(k) for k in sys.argv[4].split(",")]
out = Path(sys.argv[5])
ds = load(dname)


def train(cfg, lab):
    t0 = time.perf_counter()
    tr = Trainer(cfg, ds)
    tr.train_epochs(restart_epochs(ds.size, cfg), lab)
    return tr, tr.history[-1]["test_accuracy"], time.perf_counter() - t0


def pool_probs(tr):
    model, params = tr.model, tr.eval_params
    _, probs, _, _, _ = core.batched(
        lambda x, k: core.predict_batch(params, x, k, model=model, mc_samples=0),
        ds.images, 2048, jax.random.PRNGKey(0))
    return np.asarray(probs)


for seed in seeds:
    cfg = resolve(load_config("default").with_overrides({"train.seed": seed}), ds.size)
    lab = balanced_labels(ds.truth, n, seed)
    tr, acc1, s1 = train(cfg, lab)
    probs = pool_probs(tr)
    pred, conf = probs.argmax(1), probs.max(1)
    conf[lab >= 0] = -1
    for k in ks:
        lab2 = lab.copy()
        chosen = []
        for c in range(ds.num_classes):
            idx = np.flatnonzero((pred == c) & (conf >= 0))
            chosen.append(idx[np.argsort(-conf[idx], kind="stable")[:k]])
        chosen = np.concatenate(chosen)
        lab2[chosen] = pred[chosen]
        pseudo_acc = float((pred[chosen] == ds.truth[chosen]).mean())
        _, acc2, s2 = train(cfg, lab2)
        rec = {"dataset": dname, "labels": n, "seed": seed, "k_per_class": k,
               "pseudo": int(chosen.size), "pseudo_accuracy": round(pseudo_acc, 4),
               "stage1_test": round(acc1, 4), "stage2_test": round(acc2, 4),
               "stage1_s": round(s1, 1), "stage2_s": round(s2, 1)}
        print(json.dumps(rec), flush=True)
        with out.open("a") as f:
            f.write(json.dumps(rec) + "\n")
