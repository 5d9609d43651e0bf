"""Mixup / label-smoothing screen (2026-12-06): the default trained once on class-balanced
labels (scripts/model_sweep.py model), with the labeled images' classifier loss changed.

* ``mixup``: each augmented labeled image is mixed with another of the same labeled batch,
  x = λ·x_i + (1 − λ)·x_j, λ = max(u, 1 − u), u ~ Beta(A, A) per image (MixMatch's form), and
  the cross-entropy is λ·CE(y_i) + (1 − λ)·CE(y_j).
* ``smooth``: the cross-entropy against (1 − E)·one-hot + E / K.
* ``entropy``: the unlabeled bound's KL(q(y|x) ‖ p(y)) = −H(q) − Σ q log p(y) becomes
  −W·H(q) − Σ q log p(y): W = 1 is M2, 0 drops its entropy bonus, −1 minimises the entropy
  (Grandvalet and Bengio's entropy minimisation at weight 1).

usage: python docs/sweeps/mixup_2026-12-06/mixup_screen.py {mixup A | smooth E | entropy W} -- MODEL_SWEEP_ARGS...
Patches :mod:`ssvae.objective` in this process only (nothing in the product changes).
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import model_sweep  # noqa: E402
from ssvae import losses, objective  # noqa: E402

kind, value = sys.argv[1], float(sys.argv[2])
sys.argv = [sys.argv[0]] + sys.argv[4:]
_augment, _ce = objective.augment, losses.cross_entropy
_mix: dict = {}

if kind == "mixup":
    def augment(key, x, st):
        x = _augment(key, x, st)
        k1, k2 = jax.random.split(jax.random.fold_in(key, 7))
        u = jax.random.beta(k1, value, value, (x.shape[0],))
        lam = jnp.maximum(u, 1.0 - u).astype(x.dtype)
        perm = jax.random.permutation(k2, x.shape[0])
        _mix["lam"], _mix["perm"] = lam, perm
        l4 = lam[:, None, None, None]
        return l4 * x + (1.0 - l4) * x[perm]

    def cross_entropy(logits, labels):
        if "lam" not in _mix:
            return _ce(logits, labels)
        lam, perm = _mix.pop("lam"), _mix.pop("perm")
        return lam * _ce(logits, labels) + (1.0 - lam) * _ce(logits, labels[perm])

    objective.augment = augment
    losses.cross_entropy = cross_entropy
elif kind == "smooth":
    def cross_entropy(logits, labels):
        logp = jax.nn.log_softmax(logits)
        k = logits.shape[-1]
        target = (1.0 - value) * jax.nn.one_hot(labels, k, dtype=logp.dtype) + value / k
        return -jnp.sum(target * logp, -1)

    losses.cross_entropy = cross_entropy
elif kind == "entropy":
    def kl_categorical(q_probs, log_p):
        q = jnp.clip(q_probs, 1e-12, 1.0)
        return jnp.sum(q_probs * (value * jnp.log(q) - log_p), axis=-1)

    losses.kl_categorical = kl_categorical
else:
    raise SystemExit(f"unknown change {kind!r}")

model_sweep.main()
