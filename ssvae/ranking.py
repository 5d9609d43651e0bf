"""Uncertainty scores and the choice of the next images to label.

Plain numpy and scikit-learn: the CLI, the simulation and the dashboard call the same
:func:`rank`. This module holds the one list of query strategies (:data:`STRATEGIES`); the
config, the page and the simulation import it.

Strategies
    ``auto``        the default: ``typiclust`` while labels are few (fewer than
                    :data:`AUTO_SWITCH_PER_CLASS` per class) or the model is not trusted yet
                    (:func:`next_trust`), ``margin`` as a diverse batch from then on
    ``typiclust``   typical images of clusters that hold no label yet (Hacohen, Dekel and
                    Weinshall, "Active Learning on a Budget", ICML 2022)
    ``margin``, ``entropy``, ``least_confidence``, ``bald``   uncertainty scores of the model
    ``random``      a fixed random order of the pool
``diverse`` (a batch mode, see :func:`rank`) spreads an uncertainty batch over the data:
weighted k-means over the 10·k most uncertain images, or the most uncertain 5 % of the pool
where that is more (Zhdanov, "Diverse mini-batch active learning", 2019; the 5 %: below).
``auto``'s margin phase always uses it.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ssvae.errors import SSVAEError

#: per-image uncertainty scores that a model's predictions carry (higher: less certain)
SCORES = ("entropy", "margin", "least_confidence", "bald")
#: every query strategy, the default first: the single list the config, page and CLI use
STRATEGIES = ("auto", "typiclust", "margin", "entropy", "least_confidence", "bald", "random")
DEFAULT_STRATEGY = "auto"
#: what the page shows for each strategy
STRATEGY_LABELS = {"auto": "Auto (typical first, then margin)", "typiclust": "Typical (TypiClust)",
                   "margin": "Margin", "entropy": "Entropy", "least_confidence": "Least confidence",
                   "bald": "BALD", "random": "Random"}
#: strategies that rank by the model's representation rather than by a score
REPRESENTATION_STRATEGIES = ("auto", "typiclust")
#: what the typical phase clusters (``query.typical_on``): the model's features (its
#: ``embedding``), the images' principal components (the predictions' ``image_embedding``), or
#: both side by side, each block with the same weight (:attr:`Predictions.typical_features`)
TYPICAL_ON = ("model", "images", "both")
#: names the simulation accepts: the strategies, plus "diverse" = entropy with the diverse batch
QUERY_STRATEGIES = (*STRATEGIES, "diverse")

#: ``auto`` ranks by typicality while labels < this × classes, by margin from then on
#: (measured: benchmarks/bench_strategy.py, docs/SIMULATION.md "The default strategy")
AUTO_SWITCH_PER_CLASS = 3
#: ... and only once a model has been trusted: of at least :data:`TRUST_MIN_CHECKED` labels
#: given after it was trained, it predicted right a share this far from chance (1 / classes)
#: to all (:func:`trust_threshold`: 40 % for 10 classes). A model near chance has doubts that
#: say little; its margin picks lost to typical ones on the glyphs (docs/SIMULATION.md
#: "Typical until trusted")
TRUST_SKILL = 1 / 3
TRUST_MIN_CHECKED = 10
#: TypiClust's constants (the paper's code): clusters at most, neighbours for the density,
#: clusters smaller than this are skipped while larger ones remain
MAX_CLUSTERS = 500
TYPICALITY_NEIGHBOURS = 20
MIN_CLUSTER_SIZE = 5
#: the representation is reduced to this many PCA components before clustering
FEATURE_DIM = 32
#: a diverse batch's candidates: the ``pool_factor``·k most uncertain images, or this
#: fraction of the unlabeled pool where that is more. 10·k alone is 6–19 % of a 1 400–5 000
#: image pool but 0.5 % of a 60 000 one, where the batch crowded into the few most confused
#: classes (docs/SIMULATION.md "How many candidates"); 5 % changes nothing under 6 000 images
#: at k = 30
DIVERSE_FRACTION = 0.05


def parse_query(name: str) -> tuple[str, bool]:
    """``"diverse"`` means entropy with the diverse batch mode; others are plain strategies."""
    if name == "diverse":
        return "entropy", True
    if name not in STRATEGIES:
        raise SSVAEError(f"query strategy '{name}' is not one of: {', '.join(QUERY_STRATEGIES)}.")
    return name, False


def trust_threshold(num_classes: int) -> float:
    """The share of new labels a model must get right to be trusted (:data:`TRUST_SKILL`)."""
    chance = 1.0 / max(1, int(num_classes))
    return chance + TRUST_SKILL * (1.0 - chance)


def next_trust(previous: dict | None, checked: dict | None, num_classes: int) -> dict:
    """Whether ``auto`` may trust a model's doubts, carried from snapshot to snapshot:
    ``{"trusted": bool, "right": r, "checked": n}``. ``previous`` is the snapshot before's
    (None: none, or one that does not record it), ``checked`` how that snapshot's model did on
    the labels given since (:func:`ssvae.predictions.check_new_labels`). The counts add up
    until :data:`TRUST_MIN_CHECKED` labels were checked; then the model is trusted when it got
    :func:`trust_threshold` of them right, else a new count starts. Once trusted, always
    (``auto``'s margin picks are hard by design: their accuracy says nothing of the model's)."""
    prev = previous if isinstance(previous, dict) else {}
    right, count = _count(prev.get("right")), _count(prev.get("checked"))
    if prev.get("trusted") is True:
        return {"trusted": True, "right": right, "checked": count}
    if checked:
        right, count = right + int(checked["right"]), count + int(checked["checked"])
    if count < TRUST_MIN_CHECKED:
        return {"trusted": False, "right": right, "checked": count}
    if right >= trust_threshold(num_classes) * count - 1e-9:
        return {"trusted": True, "right": right, "checked": count}
    return {"trusted": False, "right": 0, "checked": 0}


def _count(value) -> int:
    """A count read from a snapshot's meta (a file someone may have edited): 0 unless it is one."""
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def trust_of(meta: dict) -> bool | None:
    """A snapshot's trust (:func:`next_trust`) from its ``meta``; None when it records none."""
    trust = meta.get("trust") if isinstance(meta, dict) else None
    value = trust.get("trusted") if isinstance(trust, dict) else None
    return value if isinstance(value, bool) else None


def auto_phase(num_labels: int, num_classes: int, trusted: bool | None = None) -> str:
    """What ``auto`` does at this label count and trust in the model (None: unknown, the
    count alone decides): ``"typiclust"`` or ``"margin"``."""
    few = num_labels < AUTO_SWITCH_PER_CLASS * max(1, num_classes)
    return "typiclust" if few or trusted is False else "margin"


def strategy_reason(name: str, num_labels: int, num_classes: int,
                    trusted: bool | None = None, new_labels: dict | None = None) -> str:
    """A few words for the queue's heading: why these images come first. ``new_labels`` is
    how the model did on the labels given since it was trained (``meta["new_labels"]``)."""
    if name == "auto":
        switch = AUTO_SWITCH_PER_CLASS * max(1, num_classes)
        if num_labels < switch:
            return (f"typical images of groups without a label: with few labels ({num_labels} "
                    f"of {switch}), covering the data helps most")
        if auto_phase(num_labels, num_classes, trusted) == "typiclust":
            checked = _count(new_labels.get("checked")) if isinstance(new_labels, dict) else 0
            told = (f"got {_count(new_labels.get('right'))} of the last {checked} new labels "
                    "right" if checked else "has not been checked on new labels yet")
            return (f"typical images of groups without a label: the model {told}, too few "
                    "to trust its doubts")
        return (f"images the model is least sure of, spread over the data: {num_labels} labels "
                f"(≥ {AUTO_SWITCH_PER_CLASS} per class) cover it")
    return {
        "typiclust": "typical images of groups that hold no label yet",
        "margin": "images whose two likeliest classes are closest",
        "entropy": "images whose predicted classes are most spread out",
        "least_confidence": "images whose likeliest class is least likely",
        "bald": "images the model's samples disagree on most (BALD)",
        "random": "a random order: a fair sample of the data",
    }.get(name, name)


def probability_scores(probs: np.ndarray) -> dict[str, np.ndarray]:
    """Entropy, margin and least-confidence scores; higher means less certain."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    entropy = -(p * np.log(p)).sum(axis=1)
    top2 = np.sort(p, axis=1)[:, -2:] if p.shape[1] > 1 else np.concatenate([np.zeros_like(p), p], 1)
    margin = 1.0 - (top2[:, 1] - top2[:, 0])
    least = 1.0 - top2[:, 1]
    return {"entropy": entropy.astype(np.float32), "margin": margin.astype(np.float32),
            "least_confidence": least.astype(np.float32)}



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
    features: np.ndarray | None = None,
    typical_features: np.ndarray | None = None,
    num_classes: int | None = None,
    trusted: bool | None = None,
    seed: int = 0,
    pool_factor: int = 10,
) -> np.ndarray:
    """The next ``k`` Serials to label, most informative first.

    ``scores`` is a mapping of score name to per-image score (a :class:`Predictions`'
    ``scores``) or a single score array. ``labeled`` is a boolean mask, a label array with -1
    for unlabeled, or an iterable of labeled Serials: those are never returned.

    ``features`` (N×d) is the representation that ``typiclust`` and ``auto`` cluster (and that
    ``diverse`` spreads over); without it they use ``latent``. ``typical_features``, where
    given, is what the typical phase clusters instead (``query.typical_on`` ``images`` or
    ``both``: :attr:`Predictions.typical_features`). ``auto`` needs ``num_classes`` to know when
    to switch, and ``trusted`` (:func:`trust_of`; None: the count alone decides).
    With ``diverse`` (always in ``auto``'s margin phase) an uncertainty
    batch is spread by weighted k-means over the ``pool_factor × k`` highest-scoring
    candidates (or the top :data:`DIVERSE_FRACTION` of the unlabeled pool where that is
    more), one image per cluster, so it does not hold near-duplicates (``typiclust`` batches
    are spread over clusters already).
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
    rep = features if features is not None else latent
    if strategy == "auto":
        if num_classes is None:
            raise SSVAEError("the 'auto' query strategy needs the number of classes.")
        strategy = auto_phase(int(mask.sum()), num_classes, trusted)
        if strategy == "margin" and isinstance(scores, dict) and "margin" not in scores:
            strategy = "typiclust"
        diverse = True  # margin's batch spread over the data
    if strategy == "typiclust":
        rep = rep if typical_features is None else typical_features
        if rep is None:
            raise SSVAEError("the 'typiclust' query strategy needs a representation of the "
                             "images (features or latent).")
        from threadpoolctl import threadpool_limits

        # small matrices: one thread is as fast, and safe beside training that holds the cores
        with threadpool_limits(limits=1):
            return typiclust(rep, k, mask, seed=seed)
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
    if not diverse or rep is None or k == 1:
        return order[:k].astype(np.int64)
    size = max(pool_factor * k, int(np.ceil(DIVERSE_FRACTION * order.size)))
    pool = order[: max(k, min(order.size, size))]
    points = reduce_features(np.asarray(rep)[pool], seed=seed)
    weights = score[pool] - score[pool].min() + 1e-3  # margin's score is negative
    return pool[_clustered_batch(points, weights, k, seed)].astype(np.int64)


def random_scores(n: int, seed: int = 0) -> np.ndarray:
    """One uniform random score per image, fixed by ``seed`` and ``n``: what ``"random"``
    ranks by, so its order does not change when the set of labeled images does."""
    return np.random.default_rng([int(seed) % 2**63, int(n), 0x7A4D]).random(n)


def _clustered_batch(points: np.ndarray, weights: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Diverse mini-batch selection (Zhdanov 2019): weighted k-means with ``k`` clusters over
    the candidates (weight: their uncertainty), then from each cluster the candidate nearest
    its centre; returned in the candidates' order (the most uncertain first)."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        km = KMeans(k, n_init=1, max_iter=50, random_state=seed).fit(
            points, sample_weight=np.maximum(weights, 1e-6))
    d2 = ((points - km.cluster_centers_[km.labels_]) ** 2).sum(axis=1)
    chosen = []
    for c in range(k):
        members = np.flatnonzero(km.labels_ == c)
        if members.size:
            chosen.append(int(members[np.argmin(d2[members])]))
    if len(chosen) < k:  # an empty cluster: fill with the best-scored candidates left
        rest = np.setdiff1d(np.arange(len(points)), chosen)
        chosen.extend(rest[: k - len(chosen)].tolist())
    return np.sort(np.asarray(chosen, dtype=np.int64))


# -- TypiClust ------------------------------------------------------------------------------

def reduce_features(features: np.ndarray, dim: int = FEATURE_DIM, seed: int = 0,
                    fit_max: int = 3000) -> np.ndarray:
    """``features`` flattened to N×d float32 and, when d > ``dim``, projected on its first
    ``dim`` principal components (fitted on at most ``fit_max`` images)."""
    x = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    if x.shape[1] <= dim:
        return x
    from sklearn.decomposition import PCA

    rng = np.random.default_rng([seed, 0x9CA])
    fit = x if len(x) <= fit_max else x[rng.choice(len(x), fit_max, replace=False)]
    pca = PCA(n_components=min(dim, len(fit)), svd_solver="randomized", random_state=seed)
    return pca.fit(fit).transform(x).astype(np.float32)


def cluster(x: np.ndarray, n_clusters: int, seed: int = 0, fit_max: int = 5000) -> np.ndarray:
    """K-means cluster ids of the rows of ``x``. The centres are fitted on at most
    max(``fit_max``, 10 per cluster) rows (all of a small set), then every row is assigned
    to its nearest centre: fast on a large pool, exact k-means on a small one."""
    from sklearn.cluster import KMeans

    n_clusters = int(min(n_clusters, len(x)))
    if n_clusters <= 1:
        return np.zeros(len(x), dtype=np.int64)
    size = max(fit_max, 10 * n_clusters)
    fit = x if len(x) <= size else x[np.random.default_rng([seed, 0xC1]).choice(len(x), size, replace=False)]
    km = KMeans(n_clusters, n_init=1, max_iter=50, random_state=seed).fit(fit)
    return km.predict(x).astype(np.int64)


def typicality(x: np.ndarray, rows: np.ndarray | None = None,
               neighbours: int = TYPICALITY_NEIGHBOURS, reference: int = 1000,
               seed: int = 0) -> np.ndarray:
    """Inverse mean distance of ``x[rows]`` (default: every row) to its ``neighbours``
    nearest other rows of ``x`` (among at most ``reference`` of them): high in the dense
    middle of a cluster, low at its edges."""
    m = len(x)
    rows = np.arange(m) if rows is None else np.asarray(rows, dtype=np.int64)
    if m <= 1:
        return np.ones(rows.size, dtype=np.float64)
    ref_idx = np.arange(m) if m <= reference else np.sort(
        np.random.default_rng([seed, m, 0x7E9]).choice(m, reference, replace=False))
    ref = x[ref_idx].astype(np.float32)
    xx = x[rows].astype(np.float32)
    d2 = (xx * xx).sum(1)[:, None] + (ref * ref).sum(1)[None] - 2.0 * xx @ ref.T
    pos = np.full(m, -1)
    pos[ref_idx] = np.arange(ref_idx.size)
    own = np.flatnonzero(pos[rows] >= 0)
    d2[own, pos[rows[own]]] = np.inf  # a point is not its own neighbour
    kk = max(1, min(neighbours, ref_idx.size - 1))
    # the nearest by squared distance, then the root of those few only
    near = np.sqrt(np.maximum(np.partition(d2, kk - 1, axis=1)[:, :kk], 0.0)).astype(np.float64)
    return 1.0 / (near.mean(axis=1) + 1e-8)


def typiclust(features: np.ndarray, k: int, labeled: np.ndarray, seed: int = 0,
              max_clusters: int = MAX_CLUSTERS) -> np.ndarray:
    """TypiClust (Hacohen et al. 2022): cluster the representation into |labeled| + k
    clusters (rounded down to a multiple of k; at most ``max_clusters``); then ``k`` times take the cluster with the fewest
    labeled and chosen images (the largest first among equals, clusters under
    :data:`MIN_CLUSTER_SIZE` images last) and its most typical image not yet labeled."""
    mask = np.asarray(labeled, dtype=bool)
    x = reduce_features(features, seed=seed)
    # |labeled| + k clusters, rounded down to a multiple of k: the same clusters while a user
    # labels through one queue, so labeling an image only takes it out of the queue (the
    # simulation labels k at a time, where this is the paper's |labeled| + k exactly)
    n_clusters = max(k, k * ((int(mask.sum()) + k) // k))
    ids = cluster(x, min(n_clusters, max_clusters), seed=seed)
    n_clusters = int(ids.max()) + 1
    size = np.bincount(ids, minlength=n_clusters)
    covered = np.bincount(ids[mask], minlength=n_clusters)
    members = {c: np.flatnonzero(ids == c) for c in range(n_clusters)}
    open_ = {c: m[~mask[m]] for c, m in members.items()}  # unlabeled members, most typical first
    ordered: dict[int, bool] = {}
    picks: list[int] = []
    small = size < MIN_CLUSTER_SIZE
    while len(picks) < k:
        avail = np.array([open_[c].size > 0 for c in range(n_clusters)])
        # fewest labels first; then clusters of a useful size; then the largest
        key = np.lexsort((-size, small, covered))
        c = int(next(c for c in key if avail[c]))
        if c not in ordered:  # order the cluster's open images by typicality, once
            open_[c] = _by_typicality(x, members[c], open_[c], seed)
            ordered[c] = True
        picks.append(int(open_[c][0]))
        open_[c] = open_[c][1:]
        covered[c] += 1
    return np.asarray(picks, dtype=np.int64)


def _by_typicality(x: np.ndarray, members: np.ndarray, open_: np.ndarray, seed: int,
                   evaluate: int = 500) -> np.ndarray:
    """``open_`` (unlabeled members of a cluster) most typical first. In a large cluster only
    ``evaluate`` of them (a seeded sample) are scored; the rest follow in Serial order."""
    if open_.size == 0:
        return open_
    local = np.searchsorted(members, open_)  # members and open_ are sorted
    if local.size > evaluate:
        keep = np.sort(np.random.default_rng([seed, int(members[0]), 0x5EE]).choice(
            local.size, evaluate, replace=False))
        rest = np.setdiff1d(np.arange(local.size), keep)
    else:
        keep, rest = np.arange(local.size), np.zeros(0, dtype=np.int64)
    typ = typicality(x[members], local[keep], seed=seed)
    return np.concatenate([open_[keep[np.argsort(-typ, kind="stable")]], open_[rest]])
