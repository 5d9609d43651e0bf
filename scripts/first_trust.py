"""Would ``auto`` trust the first model? For each data set and seed: train the simulation's
first model (its initial labels and epochs), let ``auto`` pick the first round's images
(typical ones: no model is trusted yet) and count how many of them that model classes right:
the check (:func:`ssvae.ranking.next_trust`) that decides whether the next round ranks by
margin. Where every seed passes, ``auto`` runs as the count-only rule did on that set, so its
earlier simulations stand. One JSON line per data set and seed.

    PYTHONPATH=. python scripts/first_trust.py --datasets mnist,fashion-mnist --seeds 3
"""
from __future__ import annotations

import argparse
import json
import time

from ssvae.config import load_config
from ssvae.evaluate import load_for_evaluation
from ssvae.ranking import next_trust, rank, trust_of, trust_threshold
from ssvae.simulate import features_of
from strategy_sweep import first_model, parse_seeds  # this folder is on sys.path when run as a script


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="mnist,fashion-mnist")
    p.add_argument("--seeds", default="3", help="a count (3: seeds 0, 1, 2) or a list (1,2 or 1,)")
    args = p.parse_args()
    cfg = load_config("default")
    for spec in args.datasets.split(","):
        ds = load_for_evaluation(spec, cfg)
        for seed in parse_seeds(args.seeds):
            t0 = time.perf_counter()
            settings, start, preds = first_model(spec, ds, cfg, seed)
            picks = rank(preds.scores, "auto", settings.step, list(start),
                         latent=preds.latent, features=features_of(preds, ds),
                         num_classes=ds.num_classes, trusted=trust_of(preds.meta), seed=seed)
            right = int((preds.pred[picks] == ds.truth[picks]).sum())
            trust = next_trust(preds.meta["trust"], {"right": right, "checked": len(picks)},
                               ds.num_classes)
            print(json.dumps({"dataset": spec, "seed": seed, "labels": len(start),
                              "test_accuracy": round(float(preds.meta["test_accuracy"]), 4),
                              "picks": len(picks), "right": right,
                              "picked_accuracy": round(right / len(picks), 4),
                              "threshold": round(trust_threshold(ds.num_classes), 4),
                              "trusted": trust["trusted"],
                              "seconds": round(time.perf_counter() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
