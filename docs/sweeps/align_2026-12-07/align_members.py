"""Aligning q(y|x) with the model's class prior after training: what it does on the loop's labels (2026-12-07).

Train the default afresh (a restart's budget, ssvae.schedule.restart_epochs) on a labeled set
and keep q(y|x) (moving-average weights, the encoder's mean, no dropout) of the test images and
of the pool, so that the summary can compare the raw predictions with predictions whose
average over the pool is made uniform (the M2 prior p(y) this model assumes), on the very same
weights: a paired comparison without restart noise.

The labeled set is a simulation's STRATEGY picks for SEED (its picks.csv) rebuilt to N labels,
as docs/sweeps/restart_members_2026-12-06 does, or with PICKS.csv ``balanced`` N class-balanced
labels drawn with SEED (scripts/model_sweep.py's draw; STRATEGY is then only a name); the
training seed is SEED unless given.

usage: python docs/sweeps/align_2026-12-07/align_members.py DATASET PICKS.csv STRATEGY N OUTDIR SEED [TRAIN_SEED] [KEY=VALUE...]
The probabilities (probs_*.npy) are not kept in the repository; members.jsonl is.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from model_sweep import balanced_labels, labels_from_picks, load, parse_value, probs_fn  # noqa: E402

from ssvae.config import load_config  # noqa: E402
from ssvae.schedule import resolve, restart_epochs  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, picks_csv, strategy, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
outdir, seed, rest = Path(sys.argv[5]), int(sys.argv[6]), sys.argv[7:]
train_seed = int(rest[0]) if rest and "=" not in rest[0] else seed
over = dict((kv.split("=", 1)[0], parse_value(kv.split("=", 1)[1])) for kv in rest if "=" in kv)
outdir.mkdir(parents=True, exist_ok=True)
ds = load(dname)
truth_test = np.asarray(ds.test_truth)
balanced = str(picks_csv) == "balanced"
if balanced:
    lab = balanced_labels(np.asarray(ds.truth), n, seed)
else:
    lab = labels_from_picks(picks_csv, strategy, seed, n, ds.size)
cfg = resolve(load_config("default").with_overrides({**over, "train.seed": train_seed}), ds.size)
t0 = time.perf_counter()
tr = Trainer(cfg, ds)
tr.train_epochs(restart_epochs(ds.size, cfg), lab)
probs = probs_fn(tr.model)
stem = f"{'balanced' if balanced else 'picks'}{n}_seed{seed}_t{train_seed}"
pt = probs(tr.eval_params, ds.test_images)
np.save(outdir / f"probs_test_{stem}.npy", pt.astype(np.float32))
np.save(outdir / f"probs_pool_{stem}.npy", probs(tr.eval_params, ds.images).astype(np.float32))
np.save(outdir / f"labels_{stem}.npy", lab.astype(np.int16))
np.save(outdir / "test_truth.npy", truth_test.astype(np.int16))
rec = {"dataset": dname, "picks": str(picks_csv), "strategy": strategy, "n": n, "seed": seed, "train_seed": train_seed, "over": over,
       "test": round(float((pt.argmax(1) == truth_test).mean()), 4),
       "seconds": round(time.perf_counter() - t0, 1)}
print(json.dumps(rec), flush=True)
with (outdir / "members.jsonl").open("a") as f:
    f.write(json.dumps(rec) + "\n")
