"""Which classes does ``auto``'s first typical batch ask for, against a random batch? For each
seed: the simulation's first model (its initial labels and epochs), the classes of the batch
``auto`` picks next (typical images: no model is trusted yet) and of a random batch, how many of
each the model already gets right, and the model's accuracy per class on the pool. One JSON
line per seed (a diagnostic of the typical phase; docs/SIMULATION.md).

    PYTHONPATH=. python scripts/typical_picks.py --dataset digits --seeds 0,1,2,3
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from ssvae.config import load_config
from ssvae.evaluate import load_for_evaluation
from ssvae.ranking import rank, trust_of
from ssvae.simulate import features_of
from strategy_sweep import first_model, parse_seeds  # this folder is on sys.path when run as a script


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="digits")
    p.add_argument("--seeds", default="3", help="a count (3: seeds 0, 1, 2) or a list (1,2 or 1,)")
    args = p.parse_args()
    cfg = load_config("default")
    ds = load_for_evaluation(args.dataset, cfg)
    for seed in parse_seeds(args.seeds):
        settings, start, preds = first_model(args.dataset, ds, cfg, seed)
        kw = dict(latent=preds.latent, features=features_of(preds, ds),
                  num_classes=ds.num_classes, trusted=trust_of(preds.meta), seed=seed)
        row = {"dataset": args.dataset, "seed": seed,
               "start_classes": sorted(int(ds.truth[s]) for s in start)}
        for name in ("auto", "random"):
            picks = np.asarray(rank(preds.scores, name, settings.step, list(start), **kw))
            row[f"{name}_classes"] = sorted(int(c) for c in ds.truth[picks])
            row[f"{name}_right"] = int((preds.pred[picks] == ds.truth[picks]).sum())
        row["per_class_accuracy"] = [round(float((preds.pred[ds.truth == k] == k).mean()), 2)
                                     for k in range(ds.num_classes)]
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
