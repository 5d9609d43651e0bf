"""Accuracy target: configs/default.yaml, 10 labels per class (fixed seed) of the bundled MNIST
pool, test accuracy on the 1000 held-out digits after at most 2 minutes of training.

usage: python benchmarks/bench_model_accuracy.py [--config default] [--seeds 0] [--per-class 10]
Writes artifacts/benchmarks/model_accuracy.json (other configs: model_accuracy_<config>_<n>pc.json).
"""
from __future__ import annotations

import argparse
import time

from model_common import per_class_labels, write_result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="default")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--seeds", default="0", help="label seeds, comma separated")
    ap.add_argument("--per-class", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()

    from ssvae.config import load_config
    from ssvae.data import load_dataset
    from ssvae.train import Trainer

    ds = load_dataset(args.dataset)
    over = {"train.epochs": args.epochs} if args.epochs else {}
    cfg = load_config(args.config, over)
    runs = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        labels = per_class_labels(ds.truth, args.per_class, seed)
        t0 = time.perf_counter()
        trainer = Trainer(cfg, ds)
        t_init = time.perf_counter() - t0
        result = trainer.train_epochs(cfg.train.epochs, labels)
        seconds = time.perf_counter() - t0
        acc = trainer.test_accuracy()
        curve = [round(h["test_accuracy"], 4) for h in trainer.history]
        print(f"label seed {seed}: {len(labels)} labels, {result['epochs']} epochs, "
              f"test accuracy {acc:.2%} in {seconds:.1f} s (of which set-up {t_init:.1f} s)", flush=True)
        runs.append({"label_seed": seed, "labels": len(labels), "epochs": result["epochs"],
                     "test_accuracy": acc, "train_seconds": result["seconds"],
                     "total_seconds": seconds, "accuracy_per_epoch": curve})
    mean = sum(r["test_accuracy"] for r in runs) / len(runs)
    name = "model_accuracy" if args.config == "default" and args.per_class == 10 else \
        f"model_accuracy_{args.config}_{args.per_class}pc"
    write_result(name, {
        "config": args.config, "dataset": args.dataset, "per_class": args.per_class,
        "runs": runs, "mean_test_accuracy": mean,
        "max_total_seconds": max(r["total_seconds"] for r in runs),
        "target": "test accuracy >= 0.85 within 120 s of training",
        "met": mean >= 0.85 and max(r["total_seconds"] for r in runs) <= 120,
    })


if __name__ == "__main__":
    main()
