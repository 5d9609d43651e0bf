"""Summary of align_members.py's runs: per member, the test accuracy of the raw q(y|x) and of
q(y|x) aligned so that its mean over the pool is the uniform prior (iterative proportional
fitting of one weight per class on the pool's predictions, then the same weights on the test
images), the smallest share of the pool any class is predicted for, and the paired change.

usage: python docs/sweeps/align_2026-12-07/align_summary.py OUTDIR [TARGET]
(the test images' classes come from OUTDIR/test_truth.npy, which align_members.py writes)
TARGET: ``uniform`` (default) or ``labeled`` (the labeled set's class shares).
"""
import json
import sys
from pathlib import Path

import numpy as np


def class_weights(pool_probs: np.ndarray, target: np.ndarray, iters: int = 200, tol: float = 1e-6):
    """One weight per class such that the pool's reweighted, renormalised probabilities average
    to ``target`` (Saerens et al. 2002's prior adjustment with the prior given)."""
    p = pool_probs.astype(np.float64)
    w = np.ones(p.shape[1])
    for _ in range(iters):
        q = p * w
        q /= q.sum(1, keepdims=True)
        m = q.mean(0)
        if np.abs(m - target).max() < tol:
            break
        w *= target / np.maximum(m, 1e-12)
        w /= w.sum()
    return w


def aligned(probs, w):
    q = probs.astype(np.float64) * w
    return q / q.sum(1, keepdims=True)


if __name__ == "__main__":
    outdir = Path(sys.argv[1])
    target_kind = sys.argv[2] if len(sys.argv) > 2 else "uniform"
    y = np.load(outdir / "test_truth.npy").astype(np.int64)
    diffs = []
    for f in sorted(outdir.glob("probs_test_*.npy")):
        stem = f.stem[len("probs_test_"):]
        pt, pp = np.load(f), np.load(outdir / f"probs_pool_{stem}.npy")
        k = pt.shape[1]
        lab = np.load(outdir / f"labels_{stem}.npy")
        if target_kind == "labeled":
            target = np.bincount(lab[lab >= 0], minlength=k) / (lab >= 0).sum()
        else:
            target = np.full(k, 1.0 / k)
        w = class_weights(pp, target)
        raw = 100 * float((pt.argmax(1) == y).mean())
        al = 100 * float((aligned(pt, w).argmax(1) == y).mean())
        share = np.bincount(pp.argmax(1), minlength=k) / len(pp)
        diffs.append(al - raw)
        print(json.dumps({"member": stem, "raw": round(raw, 2), "aligned": round(al, 2),
                          "change": round(al - raw, 2), "pool_min_share": round(float(share.min()), 3),
                          "pool_max_share": round(float(share.max()), 3)}))
    d = np.array(diffs)
    if d.size:
        print(json.dumps({"members": int(d.size), "mean_change": round(float(d.mean()), 2),
                          "se": round(float(d.std(ddof=1) / np.sqrt(d.size)), 2) if d.size > 1 else None,
                          "positive": int((d > 0).sum())}))
