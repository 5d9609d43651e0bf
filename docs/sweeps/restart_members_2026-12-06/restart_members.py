"""Restart noise on the loop's own labels, and what averaging restarts buys (2026-12-06).

Rebuild a strategy's labeled set at LABELS from a simulation's picks.csv (as
docs/sweeps/picks_fashion_2026-12-06/restart_screen.py does), train the default afresh on it for
a restart's budget (ssvae.schedule.restart_epochs), once per training seed (initial weights and
batch order), keep each member's test probabilities q(y|x) (moving-average weights), and print
one JSON line per member; ``--summary`` then reads the saved probabilities and reports, per
label set, each member's accuracy, their sd, and the accuracy of every average of 2 and of all.
The probabilities (probs_seed*_t*.npy, 200 KB each) are not kept in the repository: the
summary.jsonl files here were written from them before they were deleted; rerun the members
(deterministic for a training seed on one commit; since 9a3befa the
same seed gives other figures, float rounding amplified over 1 000 steps: docs/MODEL.md) to rebuild them.

A KEY=VALUE among the training seeds changes the config (e.g. train.learning_rate=0.001), so a
change to the model is compared with the default on the very labels the loop chose, member by
member, without the loop choosing other labels for it.

usage: python docs/sweeps/restart_members_2026-12-06/restart_members.py DATASET PICKS.csv STRATEGY LABELS OUTDIR SEED TRAIN_SEED... [KEY=VALUE...]
       python docs/sweeps/restart_members_2026-12-06/restart_members.py --summary DATASET OUTDIR
"""
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from model_sweep import labels_from_picks, load, parse_value, probs_fn  # noqa: E402

if sys.argv[1] == "--summary":
    ds, outdir = load(sys.argv[2]), Path(sys.argv[3])
    y = np.asarray(ds.test_truth)
    acc = lambda p: 100 * float((p.argmax(1) == y).mean())  # noqa: E731
    for seed in sorted({int(f.name.split("_")[1][4:]) for f in outdir.glob("probs_seed*_t*.npy")}):
        ps = {int(f.stem.split("_t")[1]): np.load(f) for f in outdir.glob(f"probs_seed{seed}_t*.npy")}
        singles = [acc(p) for p in ps.values()]
        pairs = [acc(a + b) for a, b in itertools.combinations(ps.values(), 2)]
        print(json.dumps({"seed": seed, "members": {t: round(acc(p), 2) for t, p in ps.items()},
                          "single_mean": round(np.mean(singles), 2),
                          "single_sd": round(float(np.std(singles, ddof=1)), 2) if len(singles) > 1 else None,
                          "pairs": [round(a, 2) for a in pairs],
                          "pair_mean": round(float(np.mean(pairs)), 2) if pairs else None,
                          "all": round(acc(sum(ps.values())), 2)}))
    raise SystemExit

from ssvae.config import load_config  # noqa: E402
from ssvae.schedule import resolve, restart_epochs  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, picks_csv, strategy, n, outdir = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
seed = int(sys.argv[6])
train_seeds = [int(t) for t in sys.argv[7:] if "=" not in t]
over = dict((kv.split("=", 1)[0], parse_value(kv.split("=", 1)[1])) for kv in sys.argv[7:] if "=" in kv)
outdir.mkdir(parents=True, exist_ok=True)
ds = load(dname)
lab = labels_from_picks(picks_csv, strategy, seed, n, ds.size)
for t in train_seeds:
    cfg = resolve(load_config("default").with_overrides({**over, "train.seed": t}), ds.size)
    t0 = time.perf_counter()
    tr = Trainer(cfg, ds)
    tr.train_epochs(restart_epochs(ds.size, cfg), lab)
    p = probs_fn(tr.model)(tr.eval_params, ds.test_images)
    np.save(outdir / f"probs_seed{seed}_t{t}.npy", p.astype(np.float16))
    rec = {"dataset": dname, "strategy": strategy, "labels": n, "seed": seed, "train_seed": t, "over": over,
           "test": round(float((p.argmax(1) == np.asarray(ds.test_truth)).mean()), 4),
           "trainer_test": round(float(tr.history[-1]["test_accuracy"]), 4),
           "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps(rec), flush=True)
    with (outdir / "members.jsonl").open("a") as f:
        f.write(json.dumps(rec) + "\n")
