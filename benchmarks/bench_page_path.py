"""The page's own path against the simulation's: the page trains its first model before any
label, then retrains as labels come; the simulation (docs/results) trains its first model on
the initial labels. This runs the page's path on a matrix data set — a label-free first model,
then the simulation's labels (one per class, then the default strategy's picks, 30 per round)
— with the first labeled run either warm (the page before `train.restart_unlabeled`) or from
fresh weights (the default now), and later rounds warm. Test accuracy at each label count.

usage: python benchmarks/bench_page_path.py [--quick | --full] [--dataset mnist] [--seeds 0]
       [--modes warm,fresh] [--budget 100]
Default: seed 0 to 100 labels (~20 min on 2 cores); --full: seeds 0, 1, 2 (the figures in
docs/MODEL.md); --quick: seed 0 to 40 labels. Writes artifacts/benchmarks/page_path.json.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from model_common import write_result


def page_path(spec: str, seed: int, mode: str, budget: int, step: int = 30) -> dict:
    from ssvae import load_config
    from ssvae.evaluate import load_for_evaluation
    from ssvae.ranking import DEFAULT_STRATEGY, parse_query, rank
    from ssvae.schedule import epochs_for, resolve, restart_epochs
    from ssvae.simulate import features_of, initial_labels
    from ssvae.train import Trainer

    cfg = load_config("default").with_overrides({"train.seed": seed})
    ds = load_for_evaluation(spec, cfg)
    cfg = resolve(cfg, ds.size)
    first, retrain = epochs_for(ds.size, cfg), epochs_for(ds.size, cfg, retrain=True)
    truth = np.asarray(ds.truth)
    t0 = time.perf_counter()
    trainer = Trainer(cfg, ds)
    trainer.train_epochs(first, {})  # the page's first model: no labels yet
    labels = initial_labels(truth, 10, ds.num_classes, seed)
    if mode == "fresh":  # as StartTraining: at least a restart's budget
        trainer.restart()
    trainer.train_epochs(max(retrain, restart_epochs(ds.size, cfg)) if mode == "fresh" else retrain,
                         labels)
    preds = trainer.predict(map_kind="pca")
    acc = {len(labels): float(preds.meta["test_accuracy"])}
    strategy, diverse = parse_query(DEFAULT_STRATEGY)
    while len(labels) < budget:
        picks = rank(preds.scores, strategy, min(step, budget - len(labels)), list(labels),
                     diverse=diverse, latent=preds.latent, features=features_of(preds, ds),
                     num_classes=ds.num_classes, seed=seed)
        labels.update({int(s): int(truth[s]) for s in picks})
        trainer.train_epochs(retrain, labels)
        preds = trainer.predict(map_kind="pca")
        acc[len(labels)] = float(preds.meta["test_accuracy"])
    return {"seed": seed, "mode": mode, "accuracy": acc, "seconds": time.perf_counter() - t0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--seeds", default=None, help="default 0 (--full: 0,1,2)")
    p.add_argument("--modes", default="warm,fresh")
    p.add_argument("--budget", type=int, default=None, help="default 100 (--quick: 40)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true")
    size.add_argument("--full", action="store_true")
    args = p.parse_args()
    args.seeds = args.seeds or ("0,1,2" if args.full else "0")
    args.budget = args.budget or (40 if args.quick else 100)
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for mode in args.modes.split(","):
            runs.append(page_path(args.dataset, seed, mode, args.budget))
            print(runs[-1], flush=True)
    means = {}
    for mode in args.modes.split(","):
        mine = [r["accuracy"] for r in runs if r["mode"] == mode]
        means[mode] = {n: float(np.mean([a[n] for a in mine])) for n in mine[0]}
    headline = {f"{mode}_at_{n}": acc for mode, by_count in means.items() for n, acc in by_count.items()}
    write_result("page_path", {"dataset": args.dataset, "runs": runs, "mean_accuracy": means,
                               "headline": headline, "load_average": os.getloadavg()})


if __name__ == "__main__":
    main()
