"""The SSVAE objective: how the networks' outputs and the pure loss terms of
:mod:`ssvae.losses` combine into one scalar per batch, with every term reported.

Kept apart from the trainer so the benchmark's bare loop and the tests use the very same
function. Everything here is traced inside ``jax.jit``.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ssvae import losses
from ssvae.models import SSVAE, to_float


@dataclass(frozen=True)
class Static:
    """Settings that change the computation's shape (a change means a recompile)."""

    likelihood: str = "bernoulli"
    mse_sigma: float = 0.1
    unlabeled: str = "sum"  # "sum" over y (M2), "topN" (the N likeliest y) or "expect" (E[y])
    augment_shift: int = 0
    augment_rotate: float = 0.0
    augment_scale: float = 0.0
    use_consistency: bool = False
    augment_intensity: float = 0.0

    @property
    def augments(self) -> bool:
        return self.augment_shift > 0 or self.augment_rotate > 0 or self.augment_scale > 0


HYPER_KEYS = ("kl_weight", "kl_warmup_steps", "classification_weight", "unlabeled_weight",
              "consistency_weight", "consistency_temperature", "consistency_threshold",
              "dirichlet_alpha", "dirichlet_scale")


def random_shift(key, x, shift: int):
    """Translate each image by a random integer offset in [−shift, shift]² (zero padding)."""
    if shift <= 0:
        return x
    b, h, w, c = x.shape
    xp = jnp.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0)))
    off = jax.random.randint(key, (b, 2), 0, 2 * shift + 1)
    return jax.vmap(lambda img, o: jax.lax.dynamic_slice(img, (o[0], o[1], 0), (h, w, c)))(xp, off)


def random_affine(key, x, shift: float, rotate_deg: float, scale: float):
    """Random rotation (±``rotate_deg``), zoom (1 ± ``scale``) and translation (±``shift`` px)
    about the image centre, bilinear, zero outside."""
    b, h, w, c = x.shape
    k1, k2, k3 = jax.random.split(key, 3)
    ang = jax.random.uniform(k1, (b,), minval=-1.0, maxval=1.0) * jnp.deg2rad(rotate_deg)
    sc = 1.0 + jax.random.uniform(k2, (b,), minval=-1.0, maxval=1.0) * scale
    tr = jax.random.uniform(k3, (b, 2), minval=-1.0, maxval=1.0) * shift
    yy, xx = jnp.meshgrid(jnp.arange(h, dtype=x.dtype), jnp.arange(w, dtype=x.dtype), indexing="ij")
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0

    def one(img, a, s, t):
        dy, dx = yy - cy - t[0], xx - cx - t[1]
        sy = (jnp.cos(a) * dy + jnp.sin(a) * dx) / s + cy
        sx = (-jnp.sin(a) * dy + jnp.cos(a) * dx) / s + cx
        return jnp.stack([jax.scipy.ndimage.map_coordinates(img[..., ch], [sy, sx], order=1,
                                                            mode="constant", cval=0.0)
                          for ch in range(c)], axis=-1)

    return jax.vmap(one)(x, ang, sc, tr)


def random_intensity(key, x, amount: float):
    """Each image's pixels ``x ** g * f``, clipped to [0, 1], with log g and f − 1 drawn
    uniformly from [−amount, amount] per image: darker and lighter, flatter and harsher
    versions of the same shapes (a black background stays black)."""
    k_g, k_f = jax.random.split(key)
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    g = jnp.exp(amount * jax.random.uniform(k_g, shape, minval=-1.0, maxval=1.0))
    f = 1.0 + amount * jax.random.uniform(k_f, shape, minval=-1.0, maxval=1.0)
    return jnp.clip(jnp.power(jnp.clip(x, 1e-6, 1.0), g) * f, 0.0, 1.0)


def augment(key, x, st: "Static"):
    if st.augment_rotate > 0 or st.augment_scale > 0:
        return random_affine(key, x, float(st.augment_shift), st.augment_rotate, st.augment_scale)
    return random_shift(key, x, st.augment_shift)


def sample_z(key, mean, logvar):
    return mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape, mean.dtype)


def _prior_terms(m: SSVAE, mean, logvar):
    """KL on z against each class (B×K, or B×1 when it does not depend on y), the extra
    component KL of an untied mixture (B), and log p(y) (K)."""
    k = m.num_classes
    uniform = jnp.full((k,), -jnp.log(k), mean.dtype)
    prior = m.prior_params()
    if prior is None:
        return losses.kl_normal(mean, logvar)[:, None], jnp.zeros(mean.shape[0]), uniform
    p_means, p_logvars, log_pi = prior
    if m.tied_mixture:
        return losses.kl_gaussians(mean[:, None, :], logvar[:, None, :], p_means, p_logvars), \
            jnp.zeros(mean.shape[0]), log_pi
    kl_z, kl_c, _ = losses.mixture_kl(mean, logvar, p_means, p_logvars, log_pi)
    return kl_z[:, None], kl_c, uniform


def topk_of(unlabeled: str, k: int) -> int:
    """How many classes the unlabeled bound decodes per image: all of them for "sum" (M2),
    N for "topN" (the N likeliest under q(y|x), q renormalised on them), 0 for "expect"."""
    if unlabeled in ("sum", "auto"):  # "auto" unresolved (ssvae/schedule.py): the full sum
        return k
    if unlabeled.startswith("top"):
        return min(k, int(unlabeled[3:]))
    return 0


def unlabeled_bound(m: SSVAE, x, logits, z, mean, logvar, beta, st: Static):
    """Per-image terms of the unlabeled bound −ELBO(x) = Σ_y q(y|x)[rec + β·KL_z] + KL(q(y|x)‖p(y))."""
    k = m.num_classes
    q = jax.nn.softmax(logits)
    kl_z_each, kl_c, log_py = _prior_terms(m, mean, logvar)
    top = topk_of(st.unlabeled, k)
    b, d = z.shape
    if m.decoder_uses_y and top == k:
        zz = jnp.broadcast_to(z[None], (k, b, d)).reshape(k * b, d)
        yy = jnp.repeat(jnp.eye(k, dtype=z.dtype), b, axis=0)
        rec_logits = m.decode(zz, yy).reshape((k, b) + x.shape[1:])
        rec = losses.reconstruction_nll(rec_logits, x[None], st.likelihood, st.mse_sigma).T
    elif m.decoder_uses_y and top:  # Σ over the top classes, q renormalised on them
        idx = jax.lax.top_k(jax.lax.stop_gradient(q), top)[1]  # B×top
        zz = jnp.broadcast_to(z[None], (top, b, d)).reshape(top * b, d)
        yy = jax.nn.one_hot(idx.T.reshape(-1), k, dtype=z.dtype)
        rec_logits = m.decode(zz, yy).reshape((top, b) + x.shape[1:])
        rec_top = losses.reconstruction_nll(rec_logits, x[None], st.likelihood, st.mse_sigma).T
        w = jnp.take_along_axis(q, idx, axis=-1)
        rec_e = jnp.sum(w * rec_top, -1) / jnp.maximum(jnp.sum(w, -1), 1e-6)
        rec = None
    else:
        rec_logits = m.decode(z, q if m.decoder_uses_y else None)
        rec = losses.reconstruction_nll(rec_logits, x, st.likelihood, st.mse_sigma)[:, None]
    if rec is not None:
        rec_e = jnp.sum(q * jnp.broadcast_to(rec, q.shape), -1)
    kl_z = jnp.sum(q * jnp.broadcast_to(kl_z_each, q.shape), -1)
    kl_y = losses.kl_categorical(q, log_py) + kl_c
    return {"loss": rec_e + beta * kl_z + kl_y, "recon": rec_e, "kl_z": kl_z, "kl_y": kl_y}


def labeled_bound(m: SSVAE, x, y, z, mean, logvar, beta, st: Static):
    """Per-image −ELBO(x, y) = rec(x|z,y) + β·KL(q(z|x) ‖ p(z|y)) − log p(y)."""
    onehot = jax.nn.one_hot(y, m.num_classes, dtype=z.dtype)
    rec = losses.reconstruction_nll(m.decode(z, onehot), x, st.likelihood, st.mse_sigma)
    kl_z_each, kl_c, log_py = _prior_terms(m, mean, logvar)
    kl_z = jnp.take_along_axis(jnp.broadcast_to(kl_z_each, (z.shape[0], m.num_classes)),
                               y[:, None], axis=-1)[:, 0]
    kl_y = kl_c - log_py[y] if m.tied_mixture else kl_c
    return {"loss": rec + beta * kl_z + kl_y, "recon": rec, "kl_z": kl_z, "kl_y": kl_y}


def loss_fn(params, model: SSVAE, images_u, images_l, labels_l, label_mask, key, step, hp,
            st: Static):
    """The training objective for one batch. ``images_*`` are uint8 N×H×W×C; ``label_mask``
    is 1.0 when the labeled half of the batch is real (0.0 while there are no labels).
    Returns (scalar loss, dict of batch-mean terms)."""
    k_drop, k_zu, k_zl, k_aug_u, k_aug_l, k_za = jax.random.split(key, 6)
    m = model.bind({"params": params}, rngs={"dropout": k_drop})
    xu, xl = to_float(images_u), to_float(images_l)
    beta = hp["kl_weight"] * losses.kl_warmup(step, hp["kl_warmup_steps"])
    latent_cls = model.classifier_input == "latent"

    # unlabeled images: the M2 bound, and consistency of q(y|x) under augmentation
    mean_u, logvar_u = m.encode(xu)
    z_u = sample_z(k_zu, mean_u, logvar_u)
    logits_u = m.classify(xu, z_u, deterministic=False)
    ub = unlabeled_bound(m, xu, logits_u, z_u, mean_u, logvar_u, beta, st)
    if st.use_consistency:
        xa = augment(k_aug_u, xu, st)
        za = sample_z(k_za, *m.encode(xa)) if latent_cls else None
        logits_a = m.classify(xa, za, deterministic=False)
        cons = losses.consistency(logits_u, logits_a, hp["consistency_temperature"],
                                  hp["consistency_threshold"]).mean()
    else:
        cons = jnp.zeros(())

    # labeled images: their bound with the known y, and the classifier's cross-entropy
    mean_l, logvar_l = m.encode(xl)
    z_l = sample_z(k_zl, mean_l, logvar_l)
    lb = labeled_bound(m, xl, labels_l, z_l, mean_l, logvar_l, beta, st)
    if st.augments:
        xla = augment(k_aug_l, xl, st)
        zla = sample_z(k_za, *m.encode(xla)) if latent_cls else z_l
    else:
        xla, zla = xl, z_l
    if st.augment_intensity > 0:  # its own key: the default's random numbers stay as they were
        xla = random_intensity(jax.random.fold_in(key, 11), xla, st.augment_intensity)
    logits_l = m.classify(xla, zla, deterministic=False)
    ce = losses.cross_entropy(logits_l, labels_l)

    prior = m.prior_params()
    dirichlet = jnp.zeros(())
    if prior is not None:
        dirichlet = hp["dirichlet_scale"] * losses.dirichlet_neg_log_prior(prior[2], hp["dirichlet_alpha"])

    loss = (hp["unlabeled_weight"] * ub["loss"].mean()
            + label_mask * (lb["loss"].mean() + hp["classification_weight"] * ce.mean())
            + hp["consistency_weight"] * cons + dirichlet)
    n_u, n_l = xu.shape[0], label_mask * xl.shape[0]
    tot = n_u + n_l
    metrics = {
        "loss": loss,
        "recon": (ub["recon"].sum() + label_mask * lb["recon"].sum()) / tot,
        "kl_z": (ub["kl_z"].sum() + label_mask * lb["kl_z"].sum()) / tot,
        "kl_y": ub["kl_y"].mean(),
        "elbo_unlabeled": ub["loss"].mean(),
        "elbo_labeled": label_mask * lb["loss"].mean(),
        "classification": label_mask * ce.mean(),
        "consistency": cons,
        "train_accuracy": label_mask * (logits_l.argmax(-1) == labels_l).mean(),
        "beta": beta,
    }
    return loss, metrics


def eval_bound(params, model: SSVAE, images, key, st: Static):
    """The unlabeled −ELBO terms of a batch without dropout (validation; needs no labels)."""
    m = model.bind({"params": params})
    x = to_float(images)
    mean, logvar = m.encode(x)
    z = sample_z(key, mean, logvar)
    logits = m.classify(x, mean, deterministic=True)
    return unlabeled_bound(m, x, logits, z, mean, logvar, 1.0, st)
