"""How good is the loop's model on the labels it has not seen yet? One arm of the evaluation
matrix's loop (the same plan, trainer and ranking as `ssvae evaluate`), and at every round:
the model's test accuracy, its accuracy and mean top probability on the unlabeled pool, and
the fraction of the batch it is about to be given (before it sees those labels) that it
predicts right — for the strategy's batch and for the batch margin would have picked
(docs/MODEL.md, "How good is the model on the labels it has not seen yet?").

    python scripts/next_batch_accuracy.py --dataset glyphs --strategy auto --seeds 0 \
        --out docs/sweeps/next_batch_2026-11-26.jsonl
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from ssvae.config import load_config
from ssvae.evaluate import PLANS, Plan, load_for_evaluation
from ssvae.pipeline import train_and_publish
from ssvae.ranking import parse_query, rank
from ssvae.simulate import SimulationSettings, features_of, initial_labels
from ssvae.train import Trainer


def right(preds, picks: np.ndarray, truth: np.ndarray) -> float:
    return float((preds.probs[picks].argmax(1) == truth[picks]).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dataset", required=True, help="a data set of the matrix (ssvae evaluate)")
    p.add_argument("--strategy", default="auto")
    p.add_argument("--seeds", default="0", help="comma-separated")
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--out", required=True, help="JSON lines, appended")
    args = p.parse_args()
    cfg = load_config("default")
    plan = PLANS.get(args.dataset, Plan())
    ds = load_for_evaluation(args.dataset, cfg)
    settings = SimulationSettings(strategies=(args.strategy,), initial=plan.initial, step=plan.step,
                                  budget=min(args.budget, plan.budget)).with_first_epochs(cfg, ds.size)
    truth = np.asarray(ds.truth)
    strategy, diverse = parse_query(args.strategy)
    with tempfile.TemporaryDirectory() as tmp, open(args.out, "a") as out:
        for seed in (int(s) for s in args.seeds.split(",")):
            labels = initial_labels(truth, settings.initial, ds.num_classes, seed)
            trainer = Trainer(cfg.with_overrides({"train.seed": seed}), ds)
            preds = train_and_publish(trainer, settings.first_epochs, labels,
                                      checkpoint=Path(tmp) / f"seed{seed}", map_kind="pca").predictions
            for r in range(settings.rounds):
                batch = margin_batch = None
                if r:
                    k = min(settings.step, settings.budget - len(labels))
                    common = dict(latent=preds.latent, features=features_of(preds, ds),
                                  num_classes=ds.num_classes, seed=seed)
                    picks = rank(preds.scores, strategy, k, list(labels), diverse=diverse, **common)
                    batch = right(preds, picks, truth)
                    margin_batch = right(preds, rank(preds.scores, "margin", k, list(labels),
                                                     diverse=True, **common), truth)
                    labels.update({int(s): int(truth[s]) for s in picks})
                    preds = train_and_publish(trainer, settings.epochs_per_round, labels,
                                              map_kind="pca").predictions
                pool = np.ones(len(truth), bool)
                pool[list(labels)] = False
                row = dict(dataset=args.dataset, strategy=args.strategy, seed=seed, round=r,
                           labels=len(labels), test=float(preds.meta["test_accuracy"]),
                           pool_acc=float((preds.probs[pool].argmax(1) == truth[pool]).mean()),
                           conf=float(preds.probs[pool].max(1).mean()),
                           prev_batch_acc=batch, prev_margin_batch_acc=margin_batch)
                print(json.dumps(row), flush=True)
                out.write(json.dumps(row) + "\n")
                out.flush()


if __name__ == "__main__":
    main()
