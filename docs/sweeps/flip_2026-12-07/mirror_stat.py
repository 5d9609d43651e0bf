"""How far a data set's mirror images lie from its own (2026-12-07): for up to 10 000 pool
images, the distance (50 principal components) of each image's left-right mirror to its nearest
pool image, against each image's distance to its nearest other pool image. Prints the ratio of
the medians and the share of mirrors nearer than the original's neighbour, overall and per class
(the classes only to read the result). Output: mirror_stat.txt.

usage: PYTHONPATH=scripts:. python docs/sweeps/flip_2026-12-07/mirror_stat.py
"""
import sys
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
from model_sweep import load  # noqa: E402

for name in ["mnist", "fashion60k", "digits", "glyphs"]:
    ds = load(name)
    x = np.asarray(ds.images, dtype=np.float32)
    if x.max() > 1.5:
        x = x / 255.
    idx = np.random.default_rng(0).choice(len(x), min(len(x), 10000), replace=False)
    own, mirror = x[idx], x[idx][:, :, ::-1, :]
    n = own.shape[0]
    pca = PCA(50, random_state=0).fit(own.reshape(n, -1))
    a, b = pca.transform(own.reshape(n, -1)), pca.transform(mirror.reshape(n, -1))
    nn = NearestNeighbors(n_neighbors=2).fit(a)
    d_own = nn.kneighbors(a)[0][:, 1]  # nearest other pool image
    d_mirror = nn.kneighbors(b)[0][:, 0]
    t = np.asarray(ds.truth)[idx]
    per = [np.median(d_mirror[t == c]) / np.median(d_own[t == c]) for c in np.unique(t)]
    print(name, x.shape, "ratio median flip/orig NN dist %.3f" % (np.median(d_mirror) / np.median(d_own)),
          "share flip closer than orig's NN %.3f" % np.mean(d_mirror <= d_own), "per class", np.round(per, 2))
