"""The pure training core: the training state, a plain snapshot of it, and module-level
jitted step, evaluation and prediction functions.

Nothing here holds state between calls. The model (a Flax module, hashable) and the settings
that change the computation's shape (:class:`ssvae.objective.Static`, the gradient-clip
norm, the Monte-Carlo sample count) are *static* arguments of ``jax.jit``, so JAX's own
cache keeps one compiled program per architecture and settings: a new trainer with the same
model (say, the next seed of a simulation) reuses it, and no cache is kept by hand.

:class:`Snapshot` is everything a training run continues from — config, parameters, optimizer
state, step, base key, validation split, epoch, history, the labels' fingerprint and the last
2-D map. :mod:`ssvae.checkpoint` serializes it without knowing the trainer, and
:class:`ssvae.train.Trainer` is a thin loop around one.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from ssvae.models import SSVAE, to_float
from ssvae.objective import HYPER_KEYS, Static, eval_bound, loss_fn
from ssvae.schedule import unlabeled_for

if TYPE_CHECKING:  # pydantic is not needed to train (e.g. on a bare GPU host)
    from ssvae.config import Config, TrainConfig


@struct.dataclass
class TrainState:
    params: Any
    opt_state: Any
    step: jax.Array
    ema_params: Any  # exponential moving average of params (used to predict when enabled)


@dataclass
class Snapshot:
    """A model in training, as plain data: what a checkpoint holds and a trainer runs on."""

    config: Config
    state: TrainState
    key: jax.Array  # the base PRNG key; step s uses fold_in(key, s)
    val_idx: np.ndarray  # images held out for the validation bound (never labels)
    image_shape: tuple  # what the model is built for
    num_classes: int
    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    labels_fingerprint: str = ""
    num_labels: int = 0
    start_labels: int | None = None  # labels these weights were first trained with (restart_due)
    last_map: np.ndarray | None = None  # the 2-D map of the last prediction (kept aligned)

    @property
    def model(self) -> SSVAE:
        return model_of(self.config, self.image_shape, self.num_classes)

    @property
    def eval_params(self):
        """The weights used to evaluate and predict: the moving average when enabled."""
        return self.state.ema_params if self.config.train.ema_decay > 0 else self.state.params

    def replace(self, **changes) -> "Snapshot":
        return replace(self, **changes)


# -- building blocks -------------------------------------------------------------------------

def model_of(config: Config, image_shape, num_classes: int) -> SSVAE:
    return SSVAE.from_config(config.model, tuple(image_shape), int(num_classes))


def make_optimizer(grad_clip: float) -> optax.GradientTransformation:
    """Clip the global gradient norm, then AdamW; the learning rate and weight decay are
    injected hyper-parameters, so they can change between runs without a recompile."""
    return optax.chain(
        optax.clip_by_global_norm(grad_clip),
        optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3, weight_decay=1e-4),
    )


def set_hyperparams(opt_state, learning_rate: float, weight_decay: float):
    """The optimizer state with a new learning rate and weight decay (found by name)."""
    return optax.tree_utils.tree_set(opt_state, learning_rate=jnp.float32(learning_rate),
                                     weight_decay=jnp.float32(weight_decay))


def static_of(cfg: Config, pool_size: int) -> Static:
    """The shape-changing settings of a model trained on a pool of ``pool_size`` images (the
    unlabeled bound ``auto`` is resolved by :func:`ssvae.schedule.unlabeled_for`)."""
    t, m = cfg.train, cfg.model
    return Static(likelihood=m.likelihood, mse_sigma=float(m.mse_sigma),
                  unlabeled=unlabeled_for(pool_size, cfg),
                  augment_shift=int(t.augment_shift), augment_rotate=float(t.augment_rotate),
                  augment_scale=float(t.augment_scale),
                  use_consistency=bool(t.consistency_weight > 0))


def hyper_of(t: TrainConfig, steps_per_epoch: int, num_train: int, dirichlet_alpha) -> dict:
    """The loss weights and schedules, as traced (not static) values: no recompile on change."""
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


def validation_split(name: str, n: int, seed: int, fraction: float, max_size: int) -> np.ndarray:
    """Images held out for validation, fixed by the data set (name, size) and seed.

    Only the unlabeled loss is measured on them; labels on these images are still trained on."""
    size = min(int(round(n * fraction)), max_size, n - 1)
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng([zlib.crc32(name.encode()), n, seed, 1])
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)


@partial(jax.jit, static_argnames=("model", "grad_clip"))
def init_state(model: SSVAE, key, sample, grad_clip: float) -> TrainState:
    params = model.init(key, sample)["params"]
    return TrainState(params=params, opt_state=make_optimizer(grad_clip).init(params),
                      step=jnp.zeros((), jnp.int32), ema_params=params)


def initial_state(config: Config, image_shape, num_classes: int) -> TrainState:
    """Freshly initialised weights and optimizer for ``config``'s model (from ``train.seed``)."""
    t = config.train
    model = model_of(config, image_shape, num_classes)
    key = jax.random.fold_in(jax.random.PRNGKey(t.seed), 0x5eed)
    sample = jnp.zeros((1, *image_shape), jnp.float32)
    return init_state(model, key, sample, float(t.grad_clip))


def new_snapshot(config: Config, dataset_name: str, size: int, image_shape, num_classes: int
                 ) -> Snapshot:
    """A freshly initialised model for a data set (weights from ``train.seed``)."""
    t = config.train
    return Snapshot(config=config, state=initial_state(config, image_shape, num_classes),
                    key=jax.random.PRNGKey(t.seed),
                    val_idx=validation_split(dataset_name, size, t.seed, t.val_fraction, t.val_max),
                    image_shape=tuple(image_shape), num_classes=int(num_classes))


def restarted(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with freshly initialised weights and optimizer (those of its config's seed)
    that keeps its epoch count, history, validation split and map, so that curves and the map
    go on across the restart."""
    return snapshot.replace(state=initial_state(snapshot.config, snapshot.image_shape,
                                                snapshot.num_classes),
                            history=list(snapshot.history), start_labels=None)


def is_finite(state: TrainState) -> bool:
    """Every parameter, moving average and optimizer moment is finite."""
    leaves = jax.tree_util.tree_leaves((state.params, state.ema_params, state.opt_state))
    return bool(all(bool(jnp.all(jnp.isfinite(x))) for x in leaves
                    if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating)))


# -- the jitted functions -------------------------------------------------------------------

@partial(jax.jit, static_argnames=("model", "st", "grad_clip"))
def train_step(state: TrainState, images, labels, u_idx, l_idx, i, label_mask, base_key, hp, *,
               model: SSVAE, st: Static, grad_clip: float):
    """One optimizer step: gather the batch by index from the device-resident images (row
    ``i`` of an epoch's ``u_idx``/``l_idx``), compute the loss and its gradient, update the
    weights and their moving average. Returns the new state and the loss terms."""
    tx = make_optimizer(grad_clip)
    ub = jax.lax.dynamic_index_in_dim(u_idx, i, keepdims=False)
    lb = jax.lax.dynamic_index_in_dim(l_idx, i, keepdims=False)
    key = jax.random.fold_in(base_key, state.step)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (_, metrics), grads = grad_fn(state.params, model, images[ub], images[lb], labels[lb],
                                  label_mask, key, state.step, {k: hp[k] for k in HYPER_KEYS}, st)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    d = jnp.minimum(hp["ema_decay"], (1.0 + state.step) / (10.0 + state.step))
    ema = jax.tree_util.tree_map(lambda e, p: d * e + (1.0 - d) * p, state.ema_params, params)
    return TrainState(params=params, opt_state=opt_state, step=state.step + 1,
                      ema_params=ema), metrics


@partial(jax.jit, static_argnames=("model", "st"))
def eval_sums(params, images, key, *, model: SSVAE, st: Static) -> dict:
    """The unlabeled bound's terms summed over a batch of validation images."""
    out = eval_bound(params, model, images, key, st)
    return {k: v.sum() for k, v in out.items()}


@partial(jax.jit, static_argnames=("model",))
def classify_batch(params, images, truth, valid, *, model: SSVAE):
    """Predicted classes of a (padded) batch and the summed cross-entropy of its valid rows."""
    m = model.bind({"params": params})
    x = to_float(images)
    mean, _ = m.encode(x)
    logits = m.classify(x, mean, deterministic=True)
    nll = -jnp.take_along_axis(jax.nn.log_softmax(logits), truth[:, None], axis=-1)[:, 0]
    return jnp.sum(nll * valid), logits.argmax(-1)


@partial(jax.jit, static_argnames=("model", "mc_samples"))
def predict_batch(params, images, key, *, model: SSVAE, mc_samples: int):
    """Per image: latent mean, class probabilities, uint8 reconstruction, BALD score and the
    classifier's hidden features (what the map is drawn from)."""
    m = model.bind({"params": params})
    x = to_float(images)
    mean, logvar = m.encode(x)
    h = m.classifier_features(x, mean)
    logits = m.classifier_head(h, True)
    probs = jax.nn.softmax(logits)
    y = jax.nn.one_hot(logits.argmax(-1), model.num_classes, dtype=mean.dtype)
    recon = jnp.round(jax.nn.sigmoid(m.decode(mean, y)) * 255.0).astype(jnp.uint8)
    if model.classifier_input == "latent":
        def one(k):
            z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(k, mean.shape)
            return jax.nn.softmax(m.classify(x, z, True))
        mc = jax.vmap(one)(jax.random.split(key, mc_samples))
    elif model.classifier_dropout > 0:
        # S sampled networks: one dropout mask per sample, shared by every image, as in
        # MC-dropout BALD (and S×width random numbers instead of S×N×width)
        keep = 1.0 - model.classifier_dropout
        masks = jax.random.bernoulli(key, keep, (mc_samples, h.shape[-1])).astype(h.dtype) / keep
        mc = jax.nn.softmax(jax.vmap(lambda mk: m.classifier_head_masked(h, mk))(masks))
    else:
        mc = probs[None]
    pm = mc.mean(0)
    h_mean = -jnp.sum(pm * jnp.log(jnp.clip(pm, 1e-12)), -1)
    mean_h = -jnp.sum(mc * jnp.log(jnp.clip(mc, 1e-12)), -1).mean(0)
    bald = jnp.maximum(h_mean - mean_h, 0.0)
    return mean, probs, recon, bald, h


def pad_batch(x, size: int):
    n = x.shape[0]
    if n == size:
        return x
    return jnp.concatenate([x, jnp.zeros((size - n,) + x.shape[1:], x.dtype)])


def batched(fn, images, batch_size: int, key=None):
    """Apply ``fn(batch[, key])`` over ``images`` in fixed-size batches (the last one padded, so
    one compiled program serves all); numpy results cut to the real rows."""
    n = images.shape[0]
    outs = []
    for s in range(0, n, batch_size):
        e = min(n, s + batch_size)
        x = pad_batch(images[s:e], batch_size)
        outs.append((e - s, fn(x) if key is None else fn(x, jax.random.fold_in(key, s))))
    host = jax.device_get([o for _, o in outs])
    return [np.concatenate([h[j][:c] for (c, _), h in zip(outs, host)]) for j in range(len(host[0]))]
