"""The random arm's accuracy at a restart round, without running the rounds before it.

The random arm's labels do not depend on any model (the initial labels of the seed, then one
fixed random order of the pool: ``ssvae.ranking.random_scores``), and at a round where the
labels have doubled (``train.restart_growth``) the loop trains fresh weights of the config's seed
for a restart's epochs. So the arm's model at such a round can be trained on its own: the same
labels, the same initial weights, the same epochs; only the order of the batches differs (the
loop's trainer has counted the earlier rounds' epochs). Use it to measure the random arm of a
slow data set on this machine at the one round a comparison needs.

    python scripts/random_restart.py --dataset glyphs --labels 200 --seeds 3 \\
        --out docs/sweeps/random_restart_2026-12-06/glyphs.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def random_arm_labels(truth: np.ndarray, initial: int, n: int, num_classes: int,
                      seed: int) -> dict[int, int]:
    """The random arm's ``n`` labels (``n`` ≥ ``initial``): the seed's initial labels, then the
    next images of the seed's fixed random order, as the simulation's rounds take them."""
    from ssvae.ranking import rank
    from ssvae.simulate import initial_labels

    labels = initial_labels(truth, initial, num_classes, seed)
    picks = rank(np.zeros(truth.size), "random", n - len(labels), list(labels), seed=seed)
    labels.update({int(s): int(truth[s]) for s in picks})
    return labels


def main() -> None:
    from ssvae.config import load_config
    from ssvae.evaluate import PLANS, Plan, load_for_evaluation
    from ssvae.schedule import resolve, restart_epochs
    from ssvae.simulate import machine_note
    from ssvae.train import Trainer
    from strategy_sweep import parse_seeds  # this folder is on sys.path when run as a script

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, help="a data set of the matrix")
    ap.add_argument("--labels", type=int, required=True, help="the restart round's label count")
    ap.add_argument("--seeds", default="3", help="a count (3: seeds 0, 1, 2) or a list (1,2 or 1,)")
    ap.add_argument("--out", type=Path, required=True, help="JSON lines, appended")
    args = ap.parse_args()

    config = load_config("default")
    ds = load_for_evaluation(args.dataset, config)
    initial = PLANS.get(args.dataset, Plan()).initial
    for seed in parse_seeds(args.seeds):
        cfg = resolve(config.with_overrides({"train.seed": seed}), ds.size)
        labels = random_arm_labels(np.asarray(ds.truth), initial, args.labels, ds.num_classes, seed)
        epochs = restart_epochs(ds.size, cfg)
        t0 = time.perf_counter()
        trainer = Trainer(cfg, ds)
        trainer.train_epochs(epochs, labels)
        rec = {"dataset": args.dataset, "labels": args.labels, "seed": seed, "epochs": epochs,
               "test": round(float(trainer.history[-1]["test_accuracy"]), 4),
               "seconds": round(time.perf_counter() - t0, 1), "machine": machine_note()}
        with args.out.open("a") as fh:
            fh.write(json.dumps(rec) + "\n")
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
