"""Uncertainty scores and the choice of the next images to label.

Plain numpy: the CLI, the simulation and the dashboard call the same :func:`rank`.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ssvae.errors import SSVAEError

STRATEGIES = ("entropy", "margin", "least_confidence", "bald", "random")
# query strategies offered to users: the scores above, plus a diversity-aware entropy batch
QUERY_STRATEGIES = (*STRATEGIES, "diverse")


def parse_query(name: str) -> tuple[str, bool]:
    """``"diverse"`` means entropy with the diverse batch mode; others are plain scores."""
    if name == "diverse":
        return "entropy", True
    if name not in STRATEGIES:
        raise SSVAEError(f"query strategy '{name}' is not one of: {', '.join(QUERY_STRATEGIES)}.")
    return name, False


def probability_scores(probs: np.ndarray) -> dict[str, np.ndarray]:
    """Entropy, margin and least-confidence scores; higher means less certain."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    entropy = -(p * np.log(p)).sum(axis=1)
    top2 = np.sort(p, axis=1)[:, -2:] if p.shape[1] > 1 else np.concatenate([np.zeros_like(p), p], 1)
    margin = 1.0 - (top2[:, 1] - top2[:, 0])
    least = 1.0 - top2[:, 1]
    return {"entropy": entropy.astype(np.float32), "margin": margin.astype(np.float32),
            "least_confidence": least.astype(np.float32)}


def bald_score(mc_probs: np.ndarray) -> np.ndarray:
    """BALD mutual information from S Monte-Carlo samples of class probabilities (S×N×K)."""
    p = np.clip(np.asarray(mc_probs, dtype=np.float64), 1e-12, 1.0)
    mean = p.mean(axis=0)
    h_mean = -(mean * np.log(mean)).sum(axis=1)
    mean_h = -(p * np.log(p)).sum(axis=2).mean(axis=0)
    return np.maximum(h_mean - mean_h, 0.0).astype(np.float32)


def _labeled_mask(labeled, n: int) -> np.ndarray:
    if labeled is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(labeled)
    if arr.dtype == bool and arr.shape == (n,):
        return arr
    if arr.ndim == 1 and arr.shape == (n,) and np.issubdtype(arr.dtype, np.integer) and arr.min(initial=0) < 0:
        return arr >= 0  # label array with -1 for unlabeled
    mask = np.zeros(n, dtype=bool)
    idx = np.fromiter(labeled, dtype=np.int64) if not isinstance(labeled, np.ndarray) else arr.astype(np.int64)
    mask[idx] = True
    return mask


def rank(
    scores: dict[str, np.ndarray] | np.ndarray,
    strategy: str,
    k: int,
    labeled: Iterable[int] | np.ndarray | None = None,
    *,
    diverse: bool = False,
    latent: np.ndarray | None = None,
    seed: int = 0,
    pool_factor: int = 10,
) -> np.ndarray:
    """The next ``k`` Serials to label, most informative first.

    ``scores`` is a mapping of strategy name to per-image score (a :class:`Predictions`'
    ``scores``) or a single score array. ``labeled`` is a boolean mask, a label array with -1
    for unlabeled, or an iterable of labeled Serials: those are never returned. With
    ``diverse`` the batch is chosen by greedy k-centre over ``latent`` among the
    ``pool_factor × k`` highest-scoring candidates, so it does not hold near-duplicates.
    """
    if strategy not in STRATEGIES:
        raise SSVAEError(f"query strategy '{strategy}' is not one of: {', '.join(STRATEGIES)}.")
    if isinstance(scores, dict):
        n = len(next(iter(scores.values())))
    else:
        n = len(scores)
    mask = _labeled_mask(labeled, n)
    candidates = np.flatnonzero(~mask)
    k = int(max(0, min(k, candidates.size)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if strategy == "random":
        # a fixed random score per image (from ``seed`` and the pool size): labeling an image
        # only removes it from the order, the rest of the queue stays where it was
        score = random_scores(n, seed)
    else:
        if isinstance(scores, dict):
            if strategy not in scores:
                raise SSVAEError(f"these predictions carry no '{strategy}' score "
                                 f"(they have: {', '.join(sorted(scores))}).")
            score = np.asarray(scores[strategy])
        else:
            score = np.asarray(scores)
    # stable sort on -score: ties keep Serial order, so the ranking is reproducible
    order = candidates[np.argsort(-score[candidates], kind="stable")]
    if not diverse or latent is None or k == 1:
        return order[:k].astype(np.int64)
    pool = order[: max(k, min(order.size, pool_factor * k))]
    return pool[_k_centre(np.asarray(latent, dtype=np.float32)[pool], k)].astype(np.int64)


def random_scores(n: int, seed: int = 0) -> np.ndarray:
    """One uniform random score per image, fixed by ``seed`` and ``n``: what ``"random"``
    ranks by, so its order does not change when the set of labeled images does."""
    return np.random.default_rng([int(seed) % 2**63, int(n), 0x7A4D]).random(n)


def _k_centre(points: np.ndarray, k: int) -> np.ndarray:
    """Greedy k-centre: start at the first (best-scored) point, then keep taking the point
    farthest from everything chosen so far."""
    chosen = [0]
    dist = ((points - points[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        nxt = int(dist.argmax())
        chosen.append(nxt)
        dist = np.minimum(dist, ((points - points[nxt]) ** 2).sum(axis=1))
    return np.asarray(chosen)
