"""What an image classifier should see (`model.classifier_view`), measured two ways
(docs/MODEL.md, "The colour set"):

    python scripts/classifier_view_check.py mlp glyphs 20 raw,std_all,std_ch,gray_std
    python scripts/classifier_view_check.py ssvae glyphs 20 shape 0 [train.epochs=200 ...]

``mlp``: the default config's classifier network alone (512-256, dropout 0.2, the default
augmentation, AdamW 3e-3, 600 full-batch steps) on ``per`` class-balanced labels, seeds 0 and
1, for each input: the pixels (raw), the image standardised over all its values (std_all),
each channel standardised (std_ch), the luminance standardised (gray_std, the ``shape`` view).
``ssvae``: the default config with ``model.classifier_view`` set, trained once (the first
model's budget) on ``per`` labels per class, label and model seed as given. Both print the
held-out test accuracy.
"""
from __future__ import annotations

import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ssvae.config import load_config
from ssvae.evaluate import load_for_evaluation
from ssvae.models import Classifier, shape_view
from ssvae.objective import Static, augment


def balanced(truth, per: int, num_classes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(truth == c), per, replace=False)
                           for c in range(num_classes)])


def _standardise(x, axes):
    return (x - x.mean(axes, keepdims=True)) / (x.std(axes, keepdims=True) + 1e-3)


VIEWS = {"raw": lambda x: x, "std_all": lambda x: _standardise(x, (1, 2, 3)),
         "std_ch": lambda x: _standardise(x, (1, 2)), "gray_std": shape_view}


def mlp(ds, per: int, view: str, seed: int) -> float:
    f = VIEWS[view]
    idx = balanced(ds.truth, per, ds.num_classes, seed)
    xl, yl = jnp.asarray(ds.images[idx], jnp.float32) / 255, jnp.asarray(ds.truth[idx])
    xt = jnp.asarray(ds.test_images, jnp.float32) / 255
    m = Classifier("dense", (512, 256), (32, 64), ds.num_classes, 0.2)
    p = m.init({"params": jax.random.PRNGKey(seed)}, f(xl[:2]))["params"]
    tx = optax.adamw(3e-3, weight_decay=1e-4)
    o = tx.init(p)
    st = Static(augment_shift=2, augment_rotate=15.0, augment_scale=0.1)

    @jax.jit
    def step(p, o, k):
        k1, k2 = jax.random.split(k)
        x = augment(k1, xl, st)

        def loss(p):
            lg = m.apply({"params": p}, f(x), deterministic=False, rngs={"dropout": k2})
            return optax.softmax_cross_entropy_with_integer_labels(lg, yl).mean()
        _, g = jax.value_and_grad(loss)(p)
        u, o = tx.update(g, o, p)
        return optax.apply_updates(p, u), o

    k = jax.random.PRNGKey(seed + 1)
    for _ in range(600):
        k, s = jax.random.split(k)
        p, o = step(p, o, s)
    pred = np.concatenate([np.asarray(m.apply({"params": p}, f(xt[i:i + 2000])).argmax(-1))
                           for i in range(0, len(xt), 2000)])
    return float((pred == ds.test_truth).mean())


def ssvae(spec: str, per: int, view: str, seed: int, overrides: dict) -> None:
    from ssvae.schedule import epochs_for, resolve
    from ssvae.train import Trainer

    cfg = load_config("default").with_overrides(
        {"model.classifier_view": view, "train.seed": seed, **overrides}, "check")
    ds = load_for_evaluation(spec, cfg)
    cfg = resolve(cfg, ds.size)
    labels = {int(i): int(ds.truth[i]) for i in balanced(ds.truth, per, ds.num_classes, seed)}
    tr = Trainer(cfg, ds)
    epochs = epochs_for(ds.size, cfg)
    t = time.perf_counter()
    tr.train_epochs(epochs, labels)
    print(spec, per, view, seed, overrides, "epochs", epochs, "test", round(tr.test_accuracy(), 4),
          f"{time.perf_counter() - t:.0f} s", flush=True)


def main() -> None:
    mode, spec, per = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "mlp":
        ds = load_for_evaluation(spec, load_config("default"))
        for view in sys.argv[4].split(","):
            accs = [mlp(ds, per, view, s) for s in (0, 1)]
            print(spec, per, view, np.round(accs, 3), round(float(np.mean(accs)), 3), flush=True)
    else:
        overrides = {k: float(v) for k, v in (a.split("=") for a in sys.argv[6:])}
        ssvae(spec, per, sys.argv[4], int(sys.argv[5]), overrides)


if __name__ == "__main__":
    main()
