"""The incremental trainer: a thin loop that runs epochs of :func:`ssvae.core.train_step`
on a :class:`ssvae.core.Snapshot`.

``Trainer.train_epochs`` continues from the snapshot's weights and optimizer state; calling it
again (with more labels, or new loss weights / learning rate) does not recompile. Images stay
on the device; each step gathers its batch by index inside ``jit``. Every step carries
``labeled_batch_size`` labeled images drawn with replacement from the labeled set, so even
ten labels among 60 000 images train the classifier.

Determinism: epoch ``e``'s batch order comes from ``numpy.random.default_rng([seed, e, 2])``
and step ``s``'s randomness from ``fold_in(key, s)`` with ``key = PRNGKey(seed)``, so a run
resumed from a checkpoint continues exactly like an uninterrupted one. A stop request
(``should_stop``) discards the unfinished epoch and keeps every finished one.
"""
from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ssvae import core
from ssvae.errors import LabelsError
from ssvae.labels import labels_fingerprint
from ssvae.schedule import epochs_for, restart_due

if TYPE_CHECKING:  # pydantic is not needed to train (e.g. on a bare GPU host)
    from ssvae.config import Config

ProgressFn = Callable[[dict], None]
# steps dispatched ahead of the one that has finished: enough to keep the device busy, few
# enough that should_stop() is polled at most this many steps before it takes effect
IN_FLIGHT = 2


def labels_to_array(labels, num_items: int, num_classes: int) -> np.ndarray:
    """``{serial: class}`` or an int array (−1 = none) → int32 array of length ``num_items``."""
    if labels is None:
        return np.full(num_items, -1, dtype=np.int32)
    if isinstance(labels, Mapping):
        arr = np.full(num_items, -1, dtype=np.int64)
        for s, c in labels.items():
            if not 0 <= int(s) < num_items:
                raise LabelsError(f"Serial {s} is outside the data set (0–{num_items - 1}).")
            arr[int(s)] = int(c)
    else:
        arr = np.asarray(labels)
        if arr.shape != (num_items,) or not np.issubdtype(arr.dtype, np.integer):
            raise LabelsError(f"labels must be a mapping of Serial to class or an integer array of "
                              f"length {num_items} (got {arr.dtype} {arr.shape}).")
    if arr.size and (arr.min() < -1 or arr.max() >= num_classes):
        raise LabelsError(f"labels must be class indices 0–{num_classes - 1} (or −1 for none); "
                          f"found {int(arr.min())}–{int(arr.max())}.")
    return arr.astype(np.int32)


def _mean_metrics(chunk: list[dict]) -> dict:
    stacked = jax.device_get(chunk)
    return {k: float(np.mean([m[k] for m in stacked])) for k in stacked[0]}


class Trainer:
    """Runs epochs on a :class:`ssvae.core.Snapshot` over one data set's device-resident images.

    See docs/ARCHITECTURE.md for the contract used by the CLI, the simulation and the worker.
    """

    def __init__(self, config: Config, dataset, snapshot: core.Snapshot | None = None):
        from ssvae.jaxsetup import enable_compilation_cache

        enable_compilation_cache()
        self.dataset = dataset
        self.snapshot = snapshot or core.new_snapshot(config, dataset.name, dataset.size,
                                                      dataset.image_shape, dataset.num_classes)
        if snapshot is not None:
            self.snapshot.config = config
        self._images = jax.device_put(dataset.images)
        self._image_context = None  # the pixels' principal components, for the map (once)
        self._test = None
        if dataset.has_test:
            self._test = (jax.device_put(dataset.test_images),
                          jax.device_put(np.asarray(dataset.test_truth, dtype=np.int32)))

    # -- the snapshot's fields, for reading ------------------------------------------------
    config = property(lambda self: self.snapshot.config)
    state = property(lambda self: self.snapshot.state)
    epoch = property(lambda self: self.snapshot.epoch)
    history = property(lambda self: self.snapshot.history)
    key = property(lambda self: self.snapshot.key)
    val_idx = property(lambda self: self.snapshot.val_idx)
    num_labels = property(lambda self: self.snapshot.num_labels)
    labels_fingerprint = property(lambda self: self.snapshot.labels_fingerprint)
    last_map = property(lambda self: self.snapshot.last_map)
    model = property(lambda self: self.snapshot.model)
    eval_params = property(lambda self: self.snapshot.eval_params)

    # -- configuration -------------------------------------------------------------------
    @classmethod
    def from_checkpoint(cls, path, dataset, config: Config | None = None) -> "Trainer":
        """Resume exactly from a checkpoint; ``config`` may change training settings only."""
        from ssvae.checkpoint import load_checkpoint

        snap = load_checkpoint(path, dataset, config)
        return cls(snap.config, dataset, snap)

    def restart(self) -> None:
        """Start again from fresh weights (:func:`ssvae.core.restarted`); the next
        ``train_epochs`` records the labels they begin with."""
        self.snapshot = core.restarted(self.snapshot)

    def restart_due(self, num_labels: int) -> bool:
        """Whether a run on ``num_labels`` labels should start from fresh weights
        (:func:`ssvae.schedule.restart_due`)."""
        return restart_due(self.config, self.snapshot.start_labels, num_labels)

    def save_checkpoint(self, path) -> None:
        from ssvae.checkpoint import save_checkpoint

        save_checkpoint(self.snapshot, self.dataset, path)

    def configure(self, overrides: Mapping[str, Any]) -> None:
        """Change training settings between runs (``{"learning_rate": 3e-4, "epochs": 5}``,
        keys of the ``train`` section); validated like the config file. Loss weights and the
        learning rate do not cause a recompile; batch sizes and augmentation do."""
        self.snapshot.config = self.config.with_overrides(
            {f"train.{k}": v for k, v in overrides.items()}, "training settings")

    @property
    def train_idx(self) -> np.ndarray:
        mask = np.ones(self.dataset.size, dtype=bool)
        mask[self.val_idx] = False
        return np.flatnonzero(mask)

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.train_idx.size / self.config.train.batch_size))

    def epochs_for(self, retrain: bool = False) -> int:
        """Epochs of a first model or of a retrain on this pool (:mod:`ssvae.schedule`)."""
        return epochs_for(self.dataset.size, self.config, retrain=retrain)

    # -- training -------------------------------------------------------------------------
    def _epoch_indices(self, epoch: int, labels: np.ndarray, members: int):
        """Every member's batches of an epoch: member m's order is that of a single model of
        seed :func:`ssvae.core.member_seed` (m)."""
        t = self.config.train
        train = self.train_idx
        steps = self.steps_per_epoch()
        labeled = np.flatnonzero(labels >= 0)
        us, ls = [], []
        for m in range(members):
            rng = np.random.default_rng([core.member_seed(t.seed, m), epoch, 2])
            perm = rng.permutation(train)
            extra = steps * t.batch_size - perm.size
            if extra > 0:  # fill the last batch with other images of this epoch
                perm = np.concatenate([perm, rng.choice(train, size=extra,
                                                        replace=extra > train.size)])
            if labeled.size:
                lidx = rng.choice(labeled, size=(steps, t.labeled_batch_size), replace=True)
            else:
                lidx = np.zeros((steps, t.labeled_batch_size), dtype=np.int64)
            us.append(perm.reshape(steps, t.batch_size))
            ls.append(lidx)
        return (np.stack(us).astype(np.int32), np.stack(ls).astype(np.int32),
                np.float32(1.0 if labeled.size else 0.0))

    def train_epochs(self, n: int, labels=None, on_progress: ProgressFn | None = None,
                     should_stop: Callable[[], bool] | None = None) -> dict:
        """Train ``n`` more epochs on ``labels`` from the current state.

        ``on_progress`` gets a dict every ``train.progress_every`` steps (``event="step"``) and
        after every epoch (``event="epoch"``, with train, validation and test metrics and an ETA).
        ``should_stop`` is polled before every step; when it returns True the unfinished epoch is
        discarded and the call returns. Returns a summary dict (epochs done, stopped, seconds…).
        """
        snap = self.snapshot
        t = self.config.train
        lab = labels_to_array(labels, self.dataset.size, self.dataset.num_classes)
        snap.num_labels = int((lab >= 0).sum())
        if int(snap.state.step) == 0:  # fresh weights: as many members as these labels ask for
            if snap.start_labels is None:
                snap.start_labels = snap.num_labels
            members = core.members_for(self.config, snap.num_labels)
            if snap.members != members:
                snap.state = core.initial_state(self.config, snap.image_shape, snap.num_classes,
                                                members)
        snap.labels_fingerprint = labels_fingerprint(
            {int(s): int(lab[s]) for s in np.flatnonzero(lab >= 0)})
        steps = self.steps_per_epoch()
        hp = core.hyper_of(t, steps, self.train_idx.size, self.config.model.dirichlet_alpha)
        static = {"model": snap.model, "st": core.static_of(self.config, self.dataset.size),
                  "grad_clip": float(t.grad_clip)}
        labels_dev = jax.device_put(lab)
        members = snap.members
        keys = core.member_keys(snap.key, t.seed, members)
        snap.state = snap.state.replace(
            opt_state=core.set_hyperparams(snap.state.opt_state, t.learning_rate, t.weight_decay))
        t0 = time.perf_counter()
        done, stopped, early = 0, False, False
        best, since_best = math.inf, 0
        new_entries = []
        for e in range(int(n)):
            epoch_start = time.perf_counter()
            u_idx, l_idx, lmask = self._epoch_indices(snap.epoch, lab, members)
            u_dev, l_dev = jax.device_put(u_idx), jax.device_put(l_idx)
            state = snap.state
            chunk, all_metrics = [], []
            for i in range(steps):
                if should_stop is not None and should_stop():
                    stopped = True
                    break
                state, metrics = core.train_step(state, self._images, labels_dev, u_dev, l_dev, i,
                                                 lmask, keys, hp, **static)
                chunk.append(metrics)
                if len(chunk) > IN_FLIGHT:  # keep at most IN_FLIGHT steps queued, so a stop
                    jax.block_until_ready(chunk[-1 - IN_FLIGHT])  # acts within a step or two
                if on_progress is not None and (i + 1) % t.progress_every == 0 and i + 1 < steps:
                    m = _mean_metrics(chunk)
                    all_metrics.append((len(chunk), m))
                    chunk = []
                    elapsed = time.perf_counter() - t0
                    frac = e + (i + 1) / steps
                    on_progress({"event": "step", "epoch": snap.epoch + (i + 1) / steps,
                                 "step": int(state.step), "run_epoch": e + 1, "run_epochs": int(n),
                                 "run_step": i + 1, "steps_per_epoch": steps,
                                 "seconds": elapsed, "eta_s": elapsed / frac * (n - frac), **m})
            if stopped:
                break  # the unfinished epoch is dropped: the snapshot keeps the last whole one
            snap.state = state
            if chunk:
                all_metrics.append((len(chunk), _mean_metrics(chunk)))
            total = sum(c for c, _ in all_metrics)
            train_m = {k: sum(c * m[k] for c, m in all_metrics) / total for k in all_metrics[0][1]}
            snap.epoch += 1
            done += 1
            entry = {"epoch": snap.epoch, "step": int(snap.state.step), "num_labels": snap.num_labels,
                     **train_m, **self.evaluate()}
            entry["seconds"] = time.perf_counter() - epoch_start
            snap.history.append(entry)
            new_entries.append(entry)
            elapsed = time.perf_counter() - t0
            if on_progress is not None:
                on_progress({"event": "epoch", "run_epoch": e + 1, "run_epochs": int(n),
                             "steps_per_epoch": steps, "eta_s": elapsed / (e + 1) * (n - e - 1),
                             **entry})
            metric = entry.get("val_loss", math.inf)
            if metric < best - 1e-3:
                best, since_best = metric, 0
            else:
                since_best += 1
            if t.early_stopping_patience and since_best >= t.early_stopping_patience and e + 1 < n:
                early = True
                break
        return {"epochs": done, "stopped": stopped, "early_stopped": early,
                "seconds": time.perf_counter() - t0, "epoch": snap.epoch,
                "step": int(snap.state.step), "history": new_entries}

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self) -> dict:
        """Validation loss terms (unlabeled bound on the held-out images, fixed key) and,
        where the data set has a test split, the test accuracy."""
        out: dict = {}
        bs = self.config.train.eval_batch_size
        params, model = self.eval_params, self.model
        if self.val_idx.size:
            st = core.static_of(self.config, self.dataset.size)
            key = jax.random.fold_in(self.key, 0xE7A1)
            sums: dict = {}
            for s in range(0, self.val_idx.size, bs):
                idx = self.val_idx[s:s + bs]
                r = core.eval_sums(params, self._images[jnp.asarray(idx)], key, model=model, st=st)
                for k, v in r.items():
                    sums[k] = sums.get(k, 0.0) + v
            out.update({f"val_{k}": float(v) / self.val_idx.size for k, v in sums.items()})
        if self._test is not None:
            pred, nll = self._test_pass()
            out["test_accuracy"] = float((pred == np.asarray(self.dataset.test_truth)).mean())
            out["test_classification"] = nll  # held-out cross-entropy, the classifier's val loss
        if "val_loss" in out:  # the objective's weighting on held-out data, comparable to `loss`
            t = self.config.train
            out["val_total"] = (t.unlabeled_weight * out["val_loss"]
                                + t.classification_weight * out.get("test_classification", 0.0))
        return out

    def _test_pass(self) -> tuple[np.ndarray, float]:
        """Predicted classes on the test split and their mean cross-entropy."""
        images, truth = self._test
        bs = self.config.train.eval_batch_size
        params, model = self.eval_params, self.model
        preds, nll = [], 0.0
        n = images.shape[0]
        for s in range(0, n, bs):
            e = min(n, s + bs)
            x, y = core.pad_batch(images[s:e], bs), core.pad_batch(truth[s:e], bs)
            valid = jnp.arange(bs) < (e - s)
            total, p = core.classify_batch(params, x, y, valid, model=model)
            nll += float(total)
            preds.append(np.asarray(p)[: e - s])
        return np.concatenate(preds), nll / n

    def test_predictions(self) -> np.ndarray:
        """Predicted classes on the data set's test split."""
        return self._test_pass()[0]

    def test_accuracy(self) -> float:
        if self._test is None:
            return float("nan")
        return float((self.test_predictions() == np.asarray(self.dataset.test_truth)).mean())

    def predict(self, previous=None, map_kind: str = "umap"):
        """Predictions over the whole data set (see :func:`ssvae.predict.predict`)."""
        from ssvae.predict import predict

        test_accuracy = None
        if self._test is not None:
            last = self.history[-1] if self.history else {}
            test_accuracy = (last["test_accuracy"] if last.get("epoch") == self.epoch
                             and "test_accuracy" in last else self.test_accuracy())
        images_needed = map_kind == "umap" or self.config.query.needs_image_components
        if images_needed and self._image_context is None:  # "later": in draw_map
            from ssvae.embedding import image_features

            self._image_context = image_features(self.dataset.images, seed=self.config.train.seed)
        return predict(self.snapshot, self._images, self.dataset.name, previous=previous,
                       test_accuracy=test_accuracy, map_kind=map_kind,
                       context=self._image_context)

    def draw_map(self, preds):
        """``preds`` (from :meth:`predict` with ``map_kind="later"``) with its map drawn (see
        :func:`ssvae.predict.draw_map`), which becomes the snapshot's last map."""
        from ssvae.embedding import image_features
        from ssvae.predict import draw_map

        if preds.pending_map is None:
            return preds
        if self._image_context is None:
            self._image_context = image_features(self.dataset.images, seed=self.config.train.seed)
        drawn = draw_map(preds, self.dataset.images, seed=self.config.train.seed,
                         context=self._image_context)
        self.snapshot.last_map = drawn.map2d
        return drawn
