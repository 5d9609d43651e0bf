"""The first fresh model of the evaluation, arm by arm: for each seed, the evaluation's first
model, the batch each arm picks next, and the model trained afresh on the grown labels exactly as
the simulation's restart trains it (the same checkpoint, epochs and seed, so ``auto`` and
``random`` reproduce the simulation's rows), with the held-out accuracy after every epoch and per
class. ``--set query.typical_on=images`` makes the typical phase cluster the images' principal
components; ``--new-trainer`` trains the fresh model in a new trainer instead (the same weights
and labels, another order of batches: how much of the accuracy is the order). One JSON line per
(seed, arm) (a diagnostic of the digits' 20-label round; docs/SIMULATION.md "What the typical
phase clusters").

    PYTHONPATH=. python scripts/restart_noise.py --dataset digits --seeds 0,3 --arms auto,random
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from ssvae.config import load_config
from ssvae.evaluate import load_for_evaluation, settings_for
from ssvae.pipeline import train_and_publish
from ssvae.ranking import rank, trust_of
from ssvae.simulate import features_of, initial_labels
from ssvae.train import Trainer
from model_sweep import parse_value  # this folder is on sys.path when run as a script
from strategy_sweep import parse_seeds


def per_class(trainer, num_classes: int) -> list[float]:
    """The trained model's held-out accuracy per class."""
    pred, test = trainer.test_predictions(), np.asarray(trainer.dataset.test_truth)
    return [round(float((pred[test == k] == k).mean()), 3) for k in range(num_classes)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="digits")
    p.add_argument("--seeds", default="3", help="a count (3: seeds 0, 1, 2) or a list (1,2 or 1,)")
    p.add_argument("--arms", default="auto,random", help="comma list of strategies")
    p.add_argument("--new-trainer", action="store_true",
                   help="train each fresh model in a new trainer (another batch order)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a dotted config override (JSON value), e.g. query.typical_on=images")
    args = p.parse_args()
    cfg = load_config("default").with_overrides(
        {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)})
    ds = load_for_evaluation(args.dataset, cfg)
    for seed in parse_seeds(args.seeds):
        settings = settings_for(args.dataset, (seed,), False).with_first_epochs(cfg, ds.size)
        start = initial_labels(ds.truth, settings.initial, ds.num_classes, seed)
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = Path(tmp) / "first"
            trainer = Trainer(cfg.with_overrides({"train.seed": seed}), ds)
            preds = train_and_publish(trainer, settings.first_epochs, start, checkpoint=ckpt,
                                      map_kind="pca").predictions
            for arm in args.arms.split(","):
                picks = np.asarray(rank(preds.scores, arm, settings.step, list(start),
                                        latent=preds.latent, features=features_of(preds, ds),
                                        typical_features=preds.typical_features,
                                        num_classes=ds.num_classes, trusted=trust_of(preds.meta),
                                        seed=seed))
                labels = {**start, **{int(s): int(ds.truth[s]) for s in picks}}
                if args.new_trainer:
                    trainer = Trainer(cfg.with_overrides({"train.seed": seed}), ds)
                else:
                    trainer = Trainer.from_checkpoint(ckpt, ds)
                    if not trainer.restart_due(len(labels)):
                        raise SystemExit(f"{args.dataset}: no restart at {len(labels)} labels")
                out = train_and_publish(trainer, settings.fresh_epochs, labels, previous=preds,
                                        map_kind="pca", restart=not args.new_trainer)
                curve = [round(h["test_accuracy"], 4) for h in out.result["history"]]
                print(json.dumps({
                    "dataset": args.dataset, "seed": seed, "arm": arm, "set": args.set,
                    "new_trainer": args.new_trainer, "labels": len(labels),
                    "epochs": settings.fresh_epochs, "final": curve[-1],
                    "label_classes": np.bincount(list(labels.values()),
                                                 minlength=ds.num_classes).tolist(),
                    "per_class": per_class(trainer, ds.num_classes), "curve": curve}), flush=True)


if __name__ == "__main__":
    main()
