"""What a training run does on a pool of a given size: how many epochs (a budget of optimizer
steps rather than a fixed epoch count, so a 4 000-image pool gets many passes and a 60 000-image
pool a few) and which unlabeled bound (``train.unlabeled: auto``).

``train.first_model_steps`` (the first model) and ``train.retrain_steps`` (each retrain) are
step budgets; ``train.epochs`` and ``train.retrain_epochs`` stay the upper bounds (and are
the whole story when a budget is not set). One step carries ``batch_size`` unlabeled images
and ``labeled_batch_size`` labeled ones, so the labeled cross-entropy sees the same number of
batches whatever the pool's size. Pure Python: the trainer, the worker, the CLI and the
simulation can all call it (no JAX).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

#: ``train.unlabeled: auto`` uses the M2 sum over every class up to this many images and the
#: sum over the 2 likeliest classes above it (a quarter of the step's cost; docs/MODEL.md).
AUTO_TOP2_FROM = 10_000

if TYPE_CHECKING:
    from ssvae.config import Config


def train_size(dataset_size: int, config: Config) -> int:
    """Images in an epoch: the pool less the validation split (as ``Trainer.val_idx``)."""
    t = config.train
    n = int(dataset_size)
    val = max(0, min(int(round(n * t.val_fraction)), t.val_max, n - 1))
    return n - val


def steps_per_epoch(dataset_size: int, config: Config) -> int:
    return max(1, math.ceil(train_size(dataset_size, config) / config.train.batch_size))


def epochs_for(dataset_size: int, config: Config, retrain: bool = False) -> int:
    """Epochs of the first model (``retrain=False``) or of a retrain on a pool of
    ``dataset_size`` images: the step budget rounded up to whole epochs, at least 1 and at
    most ``train.epochs`` (``train.retrain_epochs``)."""
    t = config.train
    cap, budget = (t.retrain_epochs, t.retrain_steps) if retrain else (t.epochs, t.first_model_steps)
    if budget is None:
        return int(cap)
    return int(min(cap, max(1, math.ceil(budget / steps_per_epoch(dataset_size, config)))))


def restart_epochs(dataset_size: int, config: Config) -> int:
    """Epochs of a run from fresh weights on labels (:func:`restart_due`): the first model's
    step budget without the ``train.epochs`` cap, and never fewer than the first model's
    epochs. The cap keeps a label-free first model on a small pool short; a model trained
    afresh on labels needs its steps (on the 1 438-image digits at 80 labels: 93.9 % after the
    capped 40 epochs, 96.7 % after the 1 000 steps; docs/MODEL.md)."""
    first = epochs_for(dataset_size, config)
    budget = config.train.first_model_steps
    if budget is None:
        return first
    return max(first, math.ceil(budget / steps_per_epoch(dataset_size, config)))


def restart_due(config: Config, start_labels: int | None, num_labels: int) -> bool:
    """Whether a run on ``num_labels`` labels should start from fresh weights (and train
    :func:`restart_epochs`) rather than go on from weights that began with ``start_labels``
    labels (None: not known, as in a checkpoint from before this rule): a model that began
    without labels at its first labeled run (``train.restart_unlabeled``), and with
    ``train.restart_growth`` set whenever the labels have grown that many times since. Weights
    that went on training from no or a handful of labels stay behind weights trained afresh
    on the same labels (docs/MODEL.md); growth restarts happen O(log labels) times."""
    t = config.train
    if start_labels is None or num_labels <= 0:
        return False
    if start_labels <= 0:
        return bool(t.restart_unlabeled)
    growth = float(t.restart_growth)
    return growth > 0 and num_labels >= max(growth, 1.0) * start_labels and num_labels > start_labels


def unlabeled_for(dataset_size: int, config: Config) -> str:
    """The unlabeled bound for a pool of ``dataset_size`` images: ``train.unlabeled`` as set,
    or for ``auto`` the full sum on small pools and ``top2`` from :data:`AUTO_TOP2_FROM` on."""
    u = config.train.unlabeled
    if u != "auto":
        return u
    return "top2" if int(dataset_size) >= AUTO_TOP2_FROM else "sum"


def resolve(config: Config, dataset_size: int) -> Config:
    """``config`` with the data-dependent choices made for a pool of ``dataset_size`` images
    (today ``train.unlabeled: auto``); build the Trainer from this."""
    u = unlabeled_for(dataset_size, config)
    if u == config.train.unlabeled:
        return config
    return config.with_overrides({"train.unlabeled": u}, "resolved config")
