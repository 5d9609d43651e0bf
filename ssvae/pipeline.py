"""One training run, start to finish: train → check → checkpoint → predict → save.

The CLI (``ssvae train``), the dashboard's training worker and the simulation all run a
model through :func:`train_and_publish`, so they write the same files in the same order and
refuse the same broken states:

* a run stopped before its first whole epoch changes nothing and writes nothing;
* a run whose weights became non-finite is rolled back — the trainer is as it was before
  the run, nothing is written — and :class:`DivergedError` says at which epoch;
* the checkpoint is written before the predictions, each atomically, and the checkpoint
  replaced keeps ``keep - 1`` older good ones beside it (``checkpoint.1`` is the newest of
  those), so a bad file never leaves a workspace without a model to resume;
* a model that predicts one class for every labeled image while the labels span several is
  published with a warning (``RunOutcome.warning``, ``meta["warning"]``) the page shows.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ssvae import core
from ssvae.atomic import atomic_write_bytes
from ssvae.errors import SSVAEError
from ssvae.predictions import check_new_labels, collapse_warning
from ssvae.ranking import next_trust
from ssvae.train import labels_to_array


class DivergedError(SSVAEError):
    """A run's loss or weights became non-finite; the model was rolled back."""


@dataclass
class RunOutcome:
    result: dict  # what Trainer.train_epochs returned
    predictions: object | None  # ssvae.predictions.Predictions, None when nothing changed
    warning: str | None = None  # a sentence when the new model collapsed onto one class

    @property
    def changed(self) -> bool:
        return bool(self.result["history"])


def first_bad_epoch(history: list[dict]) -> int | None:
    for entry in history:
        if any(isinstance(v, float) and not math.isfinite(v) for k, v in entry.items()
               if k in ("loss", "recon", "kl_z", "classification", "val_loss")):
            return int(entry["epoch"])
    return None


def rotate(path: Path, keep: int) -> None:
    """Shift ``path.1`` → … → ``path.{keep-1}`` (the oldest drops off) and copy ``path`` to
    ``path.1``; ``path`` itself stays until the new checkpoint atomically replaces it."""
    if keep <= 1 or not path.exists():
        return
    for i in range(keep - 1, 1, -1):
        src = path.with_name(f"{path.name}.{i - 1}")
        if src.exists():
            os.replace(src, path.with_name(f"{path.name}.{i}"))
    atomic_write_bytes(path.with_name(f"{path.name}.1"), path.read_bytes())


def backups(path: Path) -> list[Path]:
    """The older checkpoints kept beside ``path``, newest first."""
    out = []
    i = 1
    while path.with_name(f"{path.name}.{i}").exists():
        out.append(path.with_name(f"{path.name}.{i}"))
        i += 1
    return out


def train_and_publish(trainer, epochs: int, labels, *, checkpoint: Path | None = None,
                      predictions: Path | None = None, previous=None,
                      on_progress: Callable[[dict], None] | None = None,
                      should_stop: Callable[[], bool] | None = None, keep: int = 3,
                      predict: bool = True, meta: dict | None = None,
                      map_kind: str = "umap", restart: bool = False) -> RunOutcome:
    """Train ``trainer`` ``epochs`` more epochs on ``labels`` (from fresh weights with
    ``restart``: ``Trainer.restart``), then (if any epoch finished) write its checkpoint and
    predictions; a run that finishes no epoch leaves the trainer as it was, restart or not.
    ``previous`` keeps the new map aligned with an earlier snapshot's (``map_kind``: see
    :func:`ssvae.predict.predict`), and its model is scored on the labels given since it was
    trained (``meta["new_labels"]``: :func:`ssvae.predictions.check_new_labels`; and whether
    ``auto`` trusts it, ``meta["trust"]``: :func:`ssvae.ranking.next_trust`); ``meta`` is
    added to the predictions' facts. ``predict=False`` skips the predictions (and their file)."""
    before = trainer.snapshot.replace(history=list(trainer.snapshot.history))
    if restart:
        trainer.restart()
    result = trainer.train_epochs(epochs, labels, on_progress=on_progress, should_stop=should_stop)
    if not result["history"]:
        trainer.snapshot = before
        return RunOutcome(result, None)
    bad = first_bad_epoch(result["history"])
    if bad is not None or not core.is_finite(trainer.snapshot.state):
        trainer.snapshot = before
        where = f"at epoch {bad}" if bad is not None else "in its last epoch"
        raise DivergedError(f"the run diverged {where}: the loss became NaN or infinite; the "
                            "model is as it was before the run (try a smaller learning rate).")
    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        rotate(checkpoint, keep)
        trainer.save_checkpoint(checkpoint)
    preds = warning = None
    if predict:
        preds = trainer.predict(previous=previous, map_kind=map_kind)
        preds.trained_labels = labels_to_array(labels, trainer.dataset.size, trainer.dataset.num_classes)
        checked = check_new_labels(previous, preds.trained_labels)
        if checked:
            preds.meta["new_labels"] = checked
        preds.meta["trust"] = next_trust(previous.meta.get("trust") if previous is not None
                                         else None, checked, trainer.dataset.num_classes)
        preds.meta.update(meta or {})
        warning = collapse_warning(preds.probs, labels, trainer.dataset.class_names)
        if warning:
            preds.meta["warning"] = warning
        if predictions is not None:
            preds.save(Path(predictions))
    return RunOutcome(result, preds, warning)


def publish_map(trainer, preds, predictions: Path | None = None):
    """The second step of a run published with ``map_kind="later"``: draw the map of its
    model (:meth:`ssvae.train.Trainer.draw_map`) and write the predictions again with it.
    Returns the predictions with their map (``preds`` itself when nothing was pending)."""
    drawn = trainer.draw_map(preds)
    if drawn is not preds and predictions is not None:
        drawn.save(Path(predictions))
    return drawn


def resume(path: Path, dataset, config=None):
    """A trainer from the newest good checkpoint among ``path`` and its backups (readable, fits
    the data set and config, finite weights), with the problems met on the way; ``None`` when
    there is none. Raises nothing for a bad file: it says so in the returned list."""
    from ssvae.errors import CheckpointError
    from ssvae.train import Trainer

    problems: list[str] = []
    for candidate in [Path(path), *backups(Path(path))]:
        if not candidate.exists():
            continue
        try:
            trainer = Trainer.from_checkpoint(candidate, dataset, config)
        except CheckpointError as exc:
            problems.append(str(exc))
            continue
        if not core.is_finite(trainer.snapshot.state):
            problems.append(f"{candidate}: holds non-finite weights.")
            continue
        return trainer, candidate, problems
    return None, None, problems
