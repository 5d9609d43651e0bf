"""Tiny data sets and configs shared by the model tests (a few seconds of training at most)."""
from __future__ import annotations

import numpy as np

from ssvae.config import config_from_dict
from ssvae.data import Dataset

TINY = {
    "model": {"latent_dim": 4, "hidden": [32], "classifier_hidden": [32], "conv_features": [4, 8]},
    "train": {"epochs": 2, "batch_size": 32, "labeled_batch_size": 8, "eval_batch_size": 64,
              "mc_samples": 4, "progress_every": 2},
}


def tiny_config(**sections):
    raw = {k: dict(v) for k, v in TINY.items()}
    for sec, vals in sections.items():
        raw.setdefault(sec, {}).update(vals)
    return config_from_dict(raw, "tiny test config")


def make_images(n: int, h: int, w: int, c: int, classes: int, seed: int):
    """Class k is a bright horizontal bar in band k of the image, plus noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.integers(0, 40, size=(n, h, w, c)).astype(np.float32)
    band = h // classes
    for k in range(classes):
        x[y == k, k * band:(k + 1) * band, 1:-1, :] += 200
    return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)


def save_npz(path, n: int, side: int, parts: tuple[str, ...] = ("x", "y", "x_test", "y_test"),
             n_test: int = 30):
    """A 3-class data set (a, b, c) as an ``npz:`` file: ``n`` images of ``side`` × ``side`` ×
    1 and ``n_test`` test images; ``parts`` leaves out the truth or the test split. Returns
    the images and their truth."""
    x, y = make_images(n, side, side, 1, 3, 0)
    xt, yt = make_images(n_test, side, side, 1, 3, 1)
    arrays = {"x": x, "y": y, "x_test": xt, "y_test": yt}
    np.savez(path, **{k: arrays[k] for k in parts}, class_names=np.array(["a", "b", "c"]))
    return x, y


def tiny_dataset(n: int = 240, h: int = 12, w: int = 12, c: int = 1, classes: int = 3,
                 seed: int = 0, name: str = "tiny") -> Dataset:
    x, y = make_images(n, h, w, c, classes, seed)
    xt, yt = make_images(60, h, w, c, classes, seed + 100)
    return Dataset(name=name, images=x, class_names=tuple("abcdefghij"[:classes]), source="test",
                   truth=y, test_images=xt, test_truth=yt)


def some_labels(ds: Dataset, per_class: int = 2, seed: int = 0) -> dict[int, int]:
    rng = np.random.default_rng(seed)
    out = {}
    for k in range(ds.num_classes):
        for s in rng.choice(np.flatnonzero(ds.truth == k), per_class, replace=False):
            out[int(s)] = k
    return out


def tiny_npz(path, n: int = 240, classes: int = 3, side: int = 12):
    """:func:`tiny_dataset` as an ``npz:`` file, for code that loads data from a config (the
    training worker does, in its own process). Returns the config that points at it."""
    x, y = make_images(n, side, side, 1, classes, 0)
    xt, yt = make_images(60, side, side, 1, classes, 100)
    np.savez_compressed(path, x=x[..., 0], y=y, x_test=xt[..., 0], y_test=yt,
                        class_names=np.array(list("abcdefghij"[:classes])))
    return tiny_config(data={"dataset": f"npz:{path}"})
