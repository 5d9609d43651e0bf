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
    """Every leaf of ``params``, ``opt_state`` and ``ema_params`` has a leading *member* axis:
    ``train.members`` models trained side by side on the same labels, each from its own seed
    (:func:`member_seed`), whose class probabilities are averaged wherever classes are read
    (the queue's uncertainty is the first member's, :func:`predict_batch`). A single model is
    one member."""

    params: Any
    opt_state: Any
    step: jax.Array  # shared by the members
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
    def members(self) -> int:
        return member_count(self.state.params)

    @property
    def eval_params(self):
        """The weights used to evaluate and predict: the moving average when enabled."""
        return self.state.ema_params if self.config.train.ema_decay > 0 else self.state.params

    def replace(self, **changes) -> "Snapshot":
        return replace(self, **changes)


# -- building blocks -------------------------------------------------------------------------

MEMBER_SEED_STRIDE = 1000  # member m of a model with seed s trains as a model of seed s + 1000·m


def member_seed(seed: int, m: int) -> int:
    """The seed member ``m`` trains with: its initial weights, batch order and randomness are
    those of a single model with this seed (member 0: the model's own)."""
    return int(seed) + MEMBER_SEED_STRIDE * int(m)


def member_count(params) -> int:
    return int(jax.tree_util.tree_leaves(params)[0].shape[0])


def member(tree, m: int):
    """Member ``m``'s slice of a tree with a leading member axis."""
    return jax.tree_util.tree_map(lambda x: x[m], tree)


def stacked(trees):
    """Trees of the same structure → one tree with a leading member axis."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def member_keys(key, seed: int, members: int) -> jax.Array:
    """The members' base PRNG keys: the model's own ``key`` for the first, ``PRNGKey`` of
    :func:`member_seed` for the others."""
    return jnp.stack([jnp.asarray(key)] + [jax.random.PRNGKey(member_seed(seed, m))
                                           for m in range(1, members)])


def members_for(config: Config, num_labels: int) -> int:
    """How many members a model trained from fresh weights on ``num_labels`` labels has:
    ``train.members`` once there are labels; a label-free model is one (the page's first model,
    which only lays the images out and proposes the first ones to label)."""
    return int(config.train.members) if num_labels > 0 else 1

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
    """The members' optimizer state with a new learning rate and weight decay (found by name;
    one value per member, in the shape the state holds)."""
    def full(name, v):
        return jnp.full(jnp.shape(optax.tree_utils.tree_get(opt_state, name)), v, jnp.float32)

    return optax.tree_utils.tree_set(opt_state, learning_rate=full("learning_rate", learning_rate),
                                     weight_decay=full("weight_decay", weight_decay))


def static_of(cfg: Config, pool_size: int) -> Static:
    """The shape-changing settings of a model trained on a pool of ``pool_size`` images (the
    unlabeled bound ``auto`` is resolved by :func:`ssvae.schedule.unlabeled_for`)."""
    t, m = cfg.train, cfg.model
    return Static(likelihood=m.likelihood, mse_sigma=float(m.mse_sigma),
                  unlabeled=unlabeled_for(pool_size, cfg),
                  augment_shift=int(t.augment_shift), augment_rotate=float(t.augment_rotate),
                  augment_scale=float(t.augment_scale),
                  use_consistency=bool(t.consistency_weight > 0),
                  augment_intensity=float(t.augment_intensity))


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
def init_state(model: SSVAE, keys, sample, grad_clip: float) -> TrainState:
    """One member per row of ``keys``."""
    tx = make_optimizer(grad_clip)
    params = stacked([model.init(keys[m], sample)["params"] for m in range(keys.shape[0])])
    opt_state = stacked([tx.init(member(params, m)) for m in range(keys.shape[0])])
    return TrainState(params=params, opt_state=opt_state, step=jnp.zeros((), jnp.int32),
                      ema_params=params)


def initial_state(config: Config, image_shape, num_classes: int, members: int = 1) -> TrainState:
    """Freshly initialised weights and optimizer for ``config``'s model: ``members`` of them,
    member m's from seed :func:`member_seed` (``train.seed`` for the first)."""
    t = config.train
    model = model_of(config, image_shape, num_classes)
    keys = jnp.stack([jax.random.fold_in(jax.random.PRNGKey(member_seed(t.seed, m)), 0x5eed)
                      for m in range(members)])
    sample = jnp.zeros((1, *image_shape), jnp.float32)
    return init_state(model, keys, sample, float(t.grad_clip))


def new_snapshot(config: Config, dataset_name: str, size: int, image_shape, num_classes: int,
                 members: int = 1) -> Snapshot:
    """A freshly initialised model for a data set (weights from ``train.seed``)."""
    t = config.train
    return Snapshot(config=config, state=initial_state(config, image_shape, num_classes, members),
                    key=jax.random.PRNGKey(t.seed),
                    val_idx=validation_split(dataset_name, size, t.seed, t.val_fraction, t.val_max),
                    image_shape=tuple(image_shape), num_classes=int(num_classes))


def restarted(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with freshly initialised weights and optimizer (those of its config's seed)
    that keeps its epoch count, history, validation split and map, so that curves and the map
    go on across the restart. One member: the first run on labels sets the members
    (:func:`members_for`)."""
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
def train_step(state: TrainState, images, labels, u_idx, l_idx, i, label_mask, keys, hp, *,
               model: SSVAE, st: Static, grad_clip: float):
    """One optimizer step of every member: gather its batch by index from the device-resident
    images (row ``i`` of its epoch's ``u_idx[m]``/``l_idx[m]``), compute the loss and its
    gradient from its key (``keys[m]``), update its weights and their moving average. The
    members are independent models (each clips its own gradient). Returns the new state and
    the loss terms averaged over the members."""
    tx = make_optimizer(grad_clip)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    hyper = {k: hp[k] for k in HYPER_KEYS}
    d = jnp.minimum(hp["ema_decay"], (1.0 + state.step) / (10.0 + state.step))
    outs = []
    for m in range(keys.shape[0]):
        params, opt_state = member(state.params, m), member(state.opt_state, m)
        ub = jax.lax.dynamic_index_in_dim(u_idx[m], i, keepdims=False)
        lb = jax.lax.dynamic_index_in_dim(l_idx[m], i, keepdims=False)
        key = jax.random.fold_in(keys[m], state.step)
        (_, metrics), grads = grad_fn(params, model, images[ub], images[lb], labels[lb],
                                      label_mask, key, state.step, hyper, st)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        ema = jax.tree_util.tree_map(lambda e, p: d * e + (1.0 - d) * p,
                                     member(state.ema_params, m), params)
        outs.append((params, opt_state, ema, metrics))
    params, opt_state, ema, metrics = stacked(outs)
    return (TrainState(params=params, opt_state=opt_state, step=state.step + 1, ema_params=ema),
            jax.tree_util.tree_map(lambda v: v.mean(0), metrics))


@partial(jax.jit, static_argnames=("model", "st"))
def eval_sums(params, images, key, *, model: SSVAE, st: Static) -> dict:
    """The unlabeled bound's terms summed over a batch of validation images (the members'
    mean)."""
    outs = [eval_bound(member(params, m), model, images, key, st)
            for m in range(member_count(params))]
    return {k: jnp.mean(jnp.stack([o[k].sum() for o in outs])) for k in outs[0]}


def member_probs(params, x, *, model: SSVAE):
    """q(y|x) of a batch of float images: the members' probabilities averaged."""
    def one(p):
        mm = model.bind({"params": p})
        mean, _ = mm.encode(x)
        return jax.nn.softmax(mm.classify(x, mean, deterministic=True))

    return jnp.mean(jnp.stack([one(member(params, m)) for m in range(member_count(params))]), 0)


@partial(jax.jit, static_argnames=("model",))
def classify_batch(params, images, truth, valid, *, model: SSVAE):
    """Predicted classes of a (padded) batch and the summed cross-entropy of its valid rows
    (of the members' averaged probabilities)."""
    probs = member_probs(params, to_float(images), model=model)
    nll = -jnp.log(jnp.clip(jnp.take_along_axis(probs, truth[:, None], axis=-1)[:, 0], 1e-30))
    return jnp.sum(nll * valid), probs.argmax(-1)


@partial(jax.jit, static_argnames=("model", "mc_samples"))
def predict_batch(params, images, key, *, model: SSVAE, mc_samples: int):
    """Per image: latent mean, class probabilities (the members' average), the first member's
    class probabilities, uint8 reconstruction, BALD score and the classifier's hidden features
    (what the map is drawn from). Everything but the averaged probabilities is the first
    member's: one latent space, one map, and the uncertainty the queue ranks by (the
    uncertainty of the average over-asks where the members disagree; docs/MODEL.md)."""
    m = model.bind({"params": member(params, 0)})
    x = to_float(images)
    mean, logvar = m.encode(x)
    h = m.classifier_features(x, mean)
    logits = m.classifier_head(h, True)
    first = jax.nn.softmax(logits)
    probs, n = first, member_count(params)
    if n > 1:  # the others' average, weighted with the first's
        others = jax.tree_util.tree_map(lambda v: v[1:], params)
        probs = (first + (n - 1) * member_probs(others, x, model=model)) / n
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
        mc = first[None]
    pm = mc.mean(0)
    h_mean = -jnp.sum(pm * jnp.log(jnp.clip(pm, 1e-12)), -1)
    mean_h = -jnp.sum(mc * jnp.log(jnp.clip(mc, 1e-12)), -1).mean(0)
    bald = jnp.maximum(h_mean - mean_h, 0.0)
    return mean, probs, first, recon, bald, h


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
