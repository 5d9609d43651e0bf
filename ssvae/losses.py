"""Loss terms as pure functions of arrays (no modules, no state).

Per-image terms return one value per image (summed over pixels / latent dimensions); the
trainer averages and weights them and reports every term separately.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

LOG_2PI = 1.8378770664093453


def _sum_image(v):
    return v.reshape(v.shape[:-3] + (-1,)).sum(-1)


def bernoulli_nll(logits, x):
    """−log p(x|logits) under independent Bernoullis, on logits (sigmoid inside); x in [0, 1].

    Uses the stable form softplus(l) − x·l; summed over H×W×C (leading axes kept)."""
    return _sum_image(jax.nn.softplus(logits) - x * logits)


def gaussian_nll(logits, x, sigma: float = 0.1):
    """The "mse" option: −log N(x | sigmoid(logits), σ²), summed over pixels (with constants)."""
    mu = jax.nn.sigmoid(logits)
    return _sum_image(0.5 * ((x - mu) / sigma) ** 2 + jnp.log(sigma) + 0.5 * LOG_2PI)


def reconstruction_nll(logits, x, likelihood: str = "bernoulli", sigma: float = 0.1):
    if likelihood == "mse":
        return gaussian_nll(logits, x, sigma)
    return bernoulli_nll(logits, x)


def kl_normal(mean, logvar):
    """KL(N(mean, exp(logvar)) ‖ N(0, I)), summed over the last axis."""
    return 0.5 * jnp.sum(jnp.exp(logvar) + mean ** 2 - 1.0 - logvar, axis=-1)


def kl_gaussians(mean, logvar, p_mean, p_logvar):
    """KL(N(mean, e^logvar) ‖ N(p_mean, e^p_logvar)) for diagonal Gaussians, summed over the
    last axis; broadcasts (e.g. B×1×D against K×D gives B×K)."""
    return 0.5 * jnp.sum(p_logvar - logvar + (jnp.exp(logvar) + (mean - p_mean) ** 2)
                         * jnp.exp(-p_logvar) - 1.0, axis=-1)


def kl_categorical(q_probs, log_p):
    """KL(q ‖ p) of categorical distributions over the last axis (q as probabilities)."""
    q = jnp.clip(q_probs, 1e-12, 1.0)
    return jnp.sum(q_probs * (jnp.log(q) - log_p), axis=-1)


def cross_entropy(logits, labels):
    """−log q(y=label|x) from logits; labels are class indices."""
    logp = jax.nn.log_softmax(logits)
    return -jnp.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]


def kl_warmup(step, warmup_steps):
    """β multiplier that rises linearly from 0 to 1 over ``warmup_steps`` (1 if none)."""
    return jnp.where(warmup_steps > 0, jnp.clip(step / jnp.maximum(warmup_steps, 1), 0.0, 1.0), 1.0)


def mixture_kl(mean, logvar, p_means, p_logvars, log_pi):
    """KL of q(z|x) to a K-component mixture with an optimal component posterior.

    With r(c|x) ∝ π_c·exp(−KL(q(z|x) ‖ p(z|c))) the bound
    Σ_c r_c KL(q ‖ p_c) + KL(r ‖ π) equals −logsumexp_c(log π_c − KL_c) (the tightest
    variational bound of this form). Returns (kl_z, kl_c, r) per image: the z and component
    parts separately, and the responsibilities."""
    kls = kl_gaussians(mean[..., None, :], logvar[..., None, :], p_means, p_logvars)
    r = jax.nn.softmax(log_pi - kls, axis=-1)
    return jnp.sum(r * kls, axis=-1), kl_categorical(r, log_pi), r


def dirichlet_neg_log_prior(log_pi, alpha):
    """−log Dir(π | α) up to a constant: −(α−1) Σ log π_k."""
    return -(alpha - 1.0) * jnp.sum(log_pi)


def consistency(logits_clean, logits_aug, temperature: float = 1.0, threshold: float = 0.0):
    """Agreement of q(y|augmented x) with a fixed (stop-gradient) target from the clean image,
    sharpened by ``temperature``, counted only where the clean prediction's own confidence
    (before sharpening, as FixMatch does) reaches ``threshold``.

    Returns the per-image KL(target ‖ q(y|aug x)) masked by confidence."""
    clean = jax.lax.stop_gradient(logits_clean)
    target = jax.nn.softmax(clean / temperature)
    mask = (jnp.max(jax.nn.softmax(clean), axis=-1) >= threshold).astype(logits_aug.dtype)
    kl = kl_categorical(target, jax.nn.log_softmax(logits_aug))
    return kl * mask
