"""A restart on the loop's own labels (2026-12-06): rebuild a strategy's labeled set at LABELS
from a simulation's picks.csv, train the default afresh on it for a restart's budget
(ssvae.schedule.restart_epochs), as the loop does when the labels doubled, once per variant
(``NAME=KEY=VALUE[,KEY=VALUE]``; ``default`` alone is the config as it is), and print one JSON
line per (seed, variant) with the test accuracy and the labels' class counts.

usage: python docs/sweeps/picks_fashion_2026-12-06/restart_screen.py DATASET PICKS.csv STRATEGY LABELS OUT.jsonl VARIANT...
"""
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from model_sweep import labels_from_picks, load, parse_value  # noqa: E402
from ssvae.config import load_config  # noqa: E402
from ssvae.schedule import resolve, restart_epochs  # noqa: E402
from ssvae.train import Trainer  # noqa: E402

dname, picks_csv, strategy, n, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
variants = {}
for v in sys.argv[6:]:
    name, _, sets = v.partition("=")
    variants[name] = dict((kv.split("=", 1)[0], parse_value(kv.split("=", 1)[1]))
                          for kv in sets.split(",") if kv)
ds = load(dname)
with picks_csv.open(newline="") as fh:
    seeds = sorted({int(r["seed"]) for r in csv.DictReader(fh) if r["strategy"] == strategy})
for seed in seeds:
    lab = labels_from_picks(picks_csv, strategy, seed, n, ds.size)
    counts = np.bincount(lab[lab >= 0], minlength=ds.num_classes).tolist()
    for name, over in variants.items():
        cfg = resolve(load_config("default").with_overrides({"train.seed": seed, **over}), ds.size)
        t0 = time.perf_counter()
        tr = Trainer(cfg, ds)
        tr.train_epochs(restart_epochs(ds.size, cfg), lab)
        rec = {"dataset": dname, "strategy": strategy, "labels": n, "seed": seed, "variant": name,
               "over": over, "test": round(float(tr.history[-1]["test_accuracy"]), 4),
               "seconds": round(time.perf_counter() - t0, 1), "class_counts": counts}
        print(json.dumps(rec), flush=True)
        with out.open("a") as f:
            f.write(json.dumps(rec) + "\n")
