"""The incremental trainer: one jitted train step, AdamW with gradient clipping, explicit keys.

``Trainer.train_epochs`` continues from the current weights and optimizer state; calling it
again (with more labels, or new loss weights / learning rate) does not recompile. Images stay
on the device; each step gathers its batch by index inside ``jit``. Every step carries
``labeled_batch_size`` labeled images drawn with replacement from the labeled set, so even
ten labels among 60 000 images train the classifier.

Determinism: epoch ``e``'s batch order comes from ``numpy.random.default_rng([seed, e])``
and step ``s``'s randomness from ``fold_in(key, s)``, so a run resumed from a checkpoint
continues exactly like an uninterrupted one. A stop request (``should_stop``) discards the
unfinished epoch and keeps every finished one.
"""
from __future__ import annotations

import math
import time
import zlib
from typing import TYPE_CHECKING, Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from ssvae.errors import LabelsError
from ssvae.labels import labels_fingerprint
from ssvae.models import SSVAE, to_float
from ssvae.objective import HYPER_KEYS, Static, eval_bound, loss_fn

if TYPE_CHECKING:  # pydantic is not needed to train (e.g. on a bare GPU host)
    from ssvae.config import Config, TrainConfig

ProgressFn = Callable[[dict], None]
_JIT_CACHE: dict = {}


@struct.dataclass
class TrainState:
    params: Any
    opt_state: Any
    step: jax.Array
    ema_params: Any  # exponential moving average of params (used to predict when enabled)


def make_optimizer(grad_clip: float) -> optax.GradientTransformation:
    """Clip the global gradient norm, then AdamW; the learning rate and weight decay are
    injected hyper-parameters, so they can change between runs without a recompile."""
    return optax.chain(
        optax.clip_by_global_norm(grad_clip),
        optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3, weight_decay=1e-4),
    )


def set_hyperparams(opt_state, learning_rate: float, weight_decay: float):
    clip_state, inj = opt_state
    hp = dict(inj.hyperparams)
    hp["learning_rate"] = jnp.asarray(learning_rate, dtype=jnp.asarray(hp["learning_rate"]).dtype)
    hp["weight_decay"] = jnp.asarray(weight_decay, dtype=jnp.asarray(hp["weight_decay"]).dtype)
    return (clip_state, inj._replace(hyperparams=hp))


def static_of(cfg: Config) -> Static:
    t, m = cfg.train, cfg.model
    return Static(likelihood=m.likelihood, mse_sigma=float(m.mse_sigma), unlabeled=t.unlabeled,
                  augment_shift=int(t.augment_shift), augment_rotate=float(t.augment_rotate),
                  augment_scale=float(t.augment_scale),
                  use_consistency=bool(t.consistency_weight > 0))


def hyper_of(t: TrainConfig, steps_per_epoch: int, num_train: int, dirichlet_alpha) -> dict:
    hp = {
        "kl_weight": t.kl_weight,
        "kl_warmup_steps": t.kl_warmup_epochs * steps_per_epoch,
        "classification_weight": t.classification_weight,
        "unlabeled_weight": t.unlabeled_weight,
        "consistency_weight": t.consistency_weight,
        "consistency_temperature": t.consistency_temperature,
        "consistency_threshold": t.consistency_threshold,
        "dirichlet_alpha": dirichlet_alpha or 1.0,
        "dirichlet_scale": (1.0 / max(1, num_train)) if dirichlet_alpha else 0.0,
        "ema_decay": t.ema_decay,
    }
    assert set(hp) == set(HYPER_KEYS) | {"ema_decay"}
    return {k: np.float32(v) for k, v in hp.items()}


def make_train_step(model: SSVAE, tx: optax.GradientTransformation, st: Static):
    """One jitted step: gather the batch by index from the device-resident images, compute the
    loss and its gradient, apply the update. ``u_idx``/``l_idx`` hold a whole epoch of indices
    (steps×batch); ``i`` picks the row."""

    def step(state: TrainState, images, labels, u_idx, l_idx, i, label_mask, base_key, hp):
        ub = jax.lax.dynamic_index_in_dim(u_idx, i, keepdims=False)
        lb = jax.lax.dynamic_index_in_dim(l_idx, i, keepdims=False)
        key = jax.random.fold_in(base_key, state.step)
        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        (_, metrics), grads = grad_fn(state.params, model, images[ub], images[lb], labels[lb],
                                      label_mask, key, state.step,
                                      {k: hp[k] for k in HYPER_KEYS}, st)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        d = jnp.minimum(hp["ema_decay"], (1.0 + state.step) / (10.0 + state.step))
        ema = jax.tree_util.tree_map(lambda e, p: d * e + (1.0 - d) * p, state.ema_params, params)
        return TrainState(params=params, opt_state=opt_state, step=state.step + 1,
                          ema_params=ema), metrics

    return jax.jit(step)


def make_eval(model: SSVAE, st: Static):
    def ev(params, images, key):
        out = eval_bound(params, model, images, key, st)
        return {k: v.sum() for k, v in out.items()}

    def acc(params, images, truth, valid):
        m = model.bind({"params": params})
        x = to_float(images)
        mean, _ = m.encode(x)
        logits = m.classify(x, mean, deterministic=True)
        pred = logits.argmax(-1)
        nll = -jnp.take_along_axis(jax.nn.log_softmax(logits), truth[:, None], axis=-1)[:, 0]
        return jnp.sum(nll * valid), pred

    return jax.jit(ev), jax.jit(acc)


def validation_split(dataset, seed: int, fraction: float, max_size: int) -> np.ndarray:
    """Images held out for validation, fixed by the data set (name, size) and seed.

    Only the unlabeled loss is measured on them; labels on these images are still trained on."""
    n = dataset.size
    size = min(int(round(n * fraction)), max_size, n - 1)
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng([zlib.crc32(dataset.name.encode()), n, seed, 1])
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)


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
    """Owns a model, its optimizer state, the fixed validation split and the history.

    See docs/ARCHITECTURE.md for the contract used by the CLI, the simulation and the worker.
    """

    def __init__(self, config: Config, dataset):
        from ssvae.jaxsetup import enable_compilation_cache

        enable_compilation_cache()
        self.config = config
        self.dataset = dataset
        self.model = SSVAE.from_config(config.model, dataset.image_shape, dataset.num_classes)
        t = config.train
        self.val_idx = validation_split(dataset, t.seed, t.val_fraction, t.val_max)
        self.key = jax.random.PRNGKey(t.seed)
        self.epoch = 0
        self.history: list[dict] = []
        self.labels_fingerprint = labels_fingerprint({})
        self.num_labels = 0
        self.last_map: np.ndarray | None = None
        self._images = jax.device_put(dataset.images)
        self._test = None
        if dataset.has_test:
            self._test = (jax.device_put(dataset.test_images),
                          jax.device_put(np.asarray(dataset.test_truth, dtype=np.int32)))
        init_key = jax.random.fold_in(self.key, 0x5eed)
        sample = jnp.zeros((1, *dataset.image_shape), jnp.float32)
        init_key_ = ("init", self.model)
        if init_key_ not in _JIT_CACHE:
            _JIT_CACHE[init_key_] = jax.jit(self.model.init)
        params = _JIT_CACHE[init_key_](init_key, sample)["params"]
        self.tx = make_optimizer(t.grad_clip)
        self.state = TrainState(params=params, opt_state=self.tx.init(params),
                                step=jnp.zeros((), jnp.int32), ema_params=params)

    # -- configuration -------------------------------------------------------------------
    @classmethod
    def from_checkpoint(cls, path, dataset, config: Config | None = None) -> "Trainer":
        """Resume exactly from a checkpoint; ``config`` may change training settings only."""
        from ssvae.checkpoint import load_checkpoint

        return load_checkpoint(path, dataset, config)

    def save_checkpoint(self, path) -> None:
        from ssvae.checkpoint import save_checkpoint

        save_checkpoint(self, path)

    def configure(self, overrides: Mapping[str, Any]) -> None:
        """Change training settings between runs (``{"learning_rate": 3e-4, "epochs": 5}``,
        keys of the ``train`` section); validated like the config file. Loss weights and the
        learning rate do not cause a recompile; batch sizes and augmentation do."""
        cfg = self.config.with_overrides({f"train.{k}": v for k, v in overrides.items()},
                                         "training settings")
        if cfg.train.grad_clip != self.config.train.grad_clip:
            self.tx = make_optimizer(cfg.train.grad_clip)
        self.config = cfg

    @property
    def train_idx(self) -> np.ndarray:
        mask = np.ones(self.dataset.size, dtype=bool)
        mask[self.val_idx] = False
        return np.flatnonzero(mask)

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.train_idx.size / self.config.train.batch_size))

    def _fn(self, name: str):
        """The jitted step / eval functions, shared by every trainer in the process with the
        same architecture and static settings (a new Trainer, e.g. the next seed of a
        simulation, does not compile again)."""
        st = static_of(self.config)
        key = (name, self.model, self.config.train.grad_clip, st)
        if key not in _JIT_CACHE:
            if name == "step":
                _JIT_CACHE[key] = make_train_step(self.model, self.tx, st)
            else:
                ev, acc = make_eval(self.model, st)
                _JIT_CACHE[("eval",) + key[1:]] = ev
                _JIT_CACHE[("acc",) + key[1:]] = acc
        return _JIT_CACHE[key]

    # -- training -------------------------------------------------------------------------
    def _epoch_indices(self, epoch: int, labels: np.ndarray):
        t = self.config.train
        rng = np.random.default_rng([t.seed, epoch, 2])
        train = self.train_idx
        steps = self.steps_per_epoch()
        perm = rng.permutation(train)
        extra = steps * t.batch_size - perm.size
        if extra > 0:  # fill the last batch with other images of this epoch
            perm = np.concatenate([perm, rng.choice(train, size=extra, replace=extra > train.size)])
        labeled = np.flatnonzero(labels >= 0)
        if labeled.size:
            lidx = rng.choice(labeled, size=(steps, t.labeled_batch_size), replace=True)
        else:
            lidx = np.zeros((steps, t.labeled_batch_size), dtype=np.int64)
        return (perm.reshape(steps, t.batch_size).astype(np.int32), lidx.astype(np.int32),
                np.float32(1.0 if labeled.size else 0.0))

    def train_epochs(self, n: int, labels=None, on_progress: ProgressFn | None = None,
                     should_stop: Callable[[], bool] | None = None) -> dict:
        """Train ``n`` more epochs on ``labels`` from the current state.

        ``on_progress`` gets a dict every ``train.progress_every`` steps (``event="step"``) and
        after every epoch (``event="epoch"``, with train, validation and test metrics and an ETA).
        ``should_stop`` is polled before every step; when it returns True the unfinished epoch is
        discarded and the call returns. Returns a summary dict (epochs done, stopped, seconds…).
        """
        t = self.config.train
        lab = labels_to_array(labels, self.dataset.size, self.dataset.num_classes)
        self.num_labels = int((lab >= 0).sum())
        self.labels_fingerprint = labels_fingerprint(
            {int(s): int(lab[s]) for s in np.flatnonzero(lab >= 0)})
        steps = self.steps_per_epoch()
        hp = hyper_of(t, steps, self.train_idx.size, self.config.model.dirichlet_alpha)
        step_fn = self._fn("step")
        labels_dev = jax.device_put(lab)
        self.state = self.state.replace(
            opt_state=set_hyperparams(self.state.opt_state, t.learning_rate, t.weight_decay))
        t0 = time.perf_counter()
        done, stopped, early = 0, False, False
        best, since_best = math.inf, 0
        new_entries = []
        for e in range(int(n)):
            epoch_start = time.perf_counter()
            u_idx, l_idx, lmask = self._epoch_indices(self.epoch, lab)
            u_dev, l_dev = jax.device_put(u_idx), jax.device_put(l_idx)
            snapshot = self.state
            state = self.state
            chunk, all_metrics = [], []
            for i in range(steps):
                if should_stop is not None and should_stop():
                    stopped = True
                    break
                state, metrics = step_fn(state, self._images, labels_dev, u_dev, l_dev, i,
                                         lmask, self.key, hp)
                chunk.append(metrics)
                if on_progress is not None and (i + 1) % t.progress_every == 0 and i + 1 < steps:
                    m = _mean_metrics(chunk)
                    all_metrics.append((len(chunk), m))
                    chunk = []
                    elapsed = time.perf_counter() - t0
                    frac = e + (i + 1) / steps
                    on_progress({"event": "step", "epoch": self.epoch + (i + 1) / steps,
                                 "step": int(state.step), "run_epoch": e + 1, "run_epochs": int(n),
                                 "run_step": i + 1, "steps_per_epoch": steps,
                                 "seconds": elapsed, "eta_s": elapsed / frac * (n - frac), **m})
            if stopped:
                self.state = snapshot  # keep only whole epochs
                break
            self.state = state
            if chunk:
                all_metrics.append((len(chunk), _mean_metrics(chunk)))
            total = sum(c for c, _ in all_metrics)
            train_m = {k: sum(c * m[k] for c, m in all_metrics) / total for k in all_metrics[0][1]}
            self.epoch += 1
            done += 1
            entry = {"epoch": self.epoch, "step": int(self.state.step), "num_labels": self.num_labels,
                     **{k: v for k, v in train_m.items()}, **self.evaluate()}
            entry["seconds"] = time.perf_counter() - epoch_start
            self.history.append(entry)
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
                "seconds": time.perf_counter() - t0, "epoch": self.epoch,
                "step": int(self.state.step), "history": new_entries}

    # -- evaluation -----------------------------------------------------------------------
    @property
    def eval_params(self):
        """The weights used to evaluate and predict: the moving average when enabled."""
        return self.state.ema_params if self.config.train.ema_decay > 0 else self.state.params

    def evaluate(self) -> dict:
        """Validation loss terms (unlabeled bound on the held-out images, fixed key) and,
        where the data set has a test split, the test accuracy."""
        out: dict = {}
        bs = self.config.train.eval_batch_size
        params = self.eval_params
        if self.val_idx.size:
            ev = self._fn("eval")
            key = jax.random.fold_in(self.key, 0xE7A1)
            sums: dict = {}
            for s in range(0, self.val_idx.size, bs):
                idx = self.val_idx[s:s + bs]
                r = ev(params, self._images[jnp.asarray(idx)], key)
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
        acc = self._fn("acc")
        images, truth = self._test
        bs = self.config.train.eval_batch_size
        preds, nll = [], 0.0
        n = images.shape[0]
        for s in range(0, n, bs):
            e = min(n, s + bs)
            x, y = _pad(images[s:e], bs), _pad(truth[s:e], bs)
            valid = jnp.arange(bs) < (e - s)
            total, p = acc(self.eval_params, x, y, valid)
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

    def predict(self, previous=None):
        """Predictions over the whole data set (see :func:`ssvae.predict.predict_trainer`)."""
        from ssvae.predict import predict_trainer

        return predict_trainer(self, previous)


def _pad(x, size: int):
    n = x.shape[0]
    if n == size:
        return x
    return jnp.concatenate([x, jnp.zeros((size - n,) + x.shape[1:], x.dtype)])
