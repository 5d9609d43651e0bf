"""Classifier-only restart screen (2026-12-06): does a restart that keeps the VAE (encoder,
decoder) of the model before it and starts only q(y|x) afresh beat the loop's full restart?

Per seed: the loop's first model (the default, 10 class-balanced labels, one per class, the
first model's epochs), then for each of LABELS class-balanced labels (scripts/model_sweep.py's
draw) a restart's budget (ssvae.schedule.restart_epochs) from the first model's encoder and
decoder with a freshly initialised classifier, a fresh optimizer and moving average. Prints and
appends one JSON line per (seed, labels) with the test accuracy. The loop's full restart on the
same labels is `scripts/model_sweep.py model --checkpoints 5` (the same seed, weights and batch
order: docs/sweeps/restart_steps_2026-12-06/fashion60k.jsonl for Fashion-MNIST).

usage: python docs/sweeps/classifier_restart_2026-12-06/classifier_restart_screen.py DATASET LABELS SEEDS OUT.jsonl
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from model_sweep import balanced_labels, load  # noqa: E402
from ssvae import core  # noqa: E402
from ssvae.config import load_config  # noqa: E402
from ssvae.schedule import epochs_for, resolve, restart_epochs  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, counts = sys.argv[1], [int(v) for v in sys.argv[2].split(",")]
seeds, out = [int(v) for v in sys.argv[3].split(",")], Path(sys.argv[4])
ds = load(dname)
for seed in seeds:
    cfg = resolve(load_config("default").with_overrides({"train.seed": seed}), ds.size)
    first = Trainer(cfg, ds)
    t0 = time.perf_counter()
    first.train_epochs(epochs_for(ds.size, cfg), balanced_labels(ds.truth, ds.num_classes, seed))
    first_test = float(first.history[-1]["test_accuracy"])
    vae = first.snapshot.state.params
    for n in counts:
        lab = balanced_labels(ds.truth, n, seed)
        rec = {"dataset": dname, "labels": n, "seed": seed, "first_model": round(first_test, 4)}
        tr = Trainer(cfg, ds)
        fresh = tr.snapshot.state
        params = {**vae, "classifier": fresh.params["classifier"]}
        tr.snapshot = tr.snapshot.replace(state=core.TrainState(
            params=params, opt_state=core.make_optimizer(cfg.train.grad_clip).init(params),
            step=fresh.step, ema_params=params))
        t1 = time.perf_counter()
        tr.train_epochs(restart_epochs(ds.size, cfg), lab)
        rec["classifier_only"] = round(float(tr.history[-1]["test_accuracy"]), 4)
        rec["seconds"] = round(time.perf_counter() - t1, 1)
        print(json.dumps(rec), flush=True)
        with out.open("a") as f:
            f.write(json.dumps(rec) + "\n")
