"""Ensemble screen (2026-12-06): on class-balanced labels, train the default twice from different
initial weights and batch orders (train.seed = seed and seed + 1000), keep the test predictions
q(y|x) of the moving-average weights after every epoch, and compare single models with averages:
two members at the full restart budget (2x the steps), two members at about half of it each
(about the same steps as one model), and a snapshot average of one run's last epochs (no extra
training).

usage: python docs/sweeps/ensemble_2026-12-06/ensemble_screen.py DATASET LABELS SEEDS OUT.jsonl
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from model_sweep import balanced_labels, load, probs_fn  # noqa: E402
from ssvae.config import load_config  # noqa: E402
from ssvae.schedule import resolve, restart_epochs, steps_per_epoch  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, n, seeds, out = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")], sys.argv[4]
ds = load(dname)
X, Y = ds.test_images, ds.test_truth


def member(seed, lab, train_seed):
    """Test probabilities after each epoch of one restart-length run."""
    cfg = resolve(load_config("default").with_overrides({"train.seed": train_seed}), ds.size)
    ep = restart_epochs(ds.size, cfg)
    tr = Trainer(cfg, ds)
    probs = probs_fn(tr.model)
    out_p = []
    for _ in range(ep):
        tr.train_epochs(1, lab)
        out_p.append(probs(tr.eval_params, X))
    return ep, steps_per_epoch(ds.size, cfg), out_p


def acc(p):
    return round(float((p.argmax(1) == Y).mean()), 4)


for seed in seeds:
    lab = balanced_labels(ds.truth, n, seed)
    t0 = time.perf_counter()
    ep, spe, a = member(seed, lab, seed)
    _, _, b = member(seed, lab, seed + 1000)
    half = max(1, (ep + 1) // 2)
    rec = {"dataset": dname, "labels": n, "seed": seed, "epochs": ep, "steps_per_epoch": spe,
           "seconds": round(time.perf_counter() - t0, 1),
           "single_a": acc(a[-1]), "single_b": acc(b[-1]),
           "single_a_by_epoch": [acc(p) for p in a],
           "pair_full": acc(a[-1] + b[-1]),
           f"pair_half_{half}ep": acc(a[half - 1] + b[half - 1]),
           "snapshot_last3": acc(sum(a[-3:])),
           }
    print(json.dumps(rec), flush=True)
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
