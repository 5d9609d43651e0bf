"""TypiClust and the budget-aware default ("auto") on tiny synthetic data (no model)."""
import numpy as np
import pytest

from ssvae.errors import SSVAEError
from ssvae.ranking import (AUTO_SWITCH_PER_CLASS, DEFAULT_STRATEGY, STRATEGIES, TRUST_MIN_CHECKED,
                           auto_phase, next_trust, rank, strategy_reason, trust_of,
                           trust_threshold, typicality)


def blobs(centres: int = 6, per: int = 40, dim: int = 5, spread: float = 0.3, seed: int = 0):
    """``centres`` well-separated Gaussian blobs; returns points and blob ids."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, dim)) * 20
    ids = np.repeat(np.arange(centres), per)
    return (means[ids] + rng.normal(size=(ids.size, dim)) * spread).astype(np.float32), ids


def scores_for(n: int, seed: int = 0):
    return {"margin": np.random.default_rng(seed).random(n).astype(np.float32)}


@pytest.mark.parametrize("strategy", ["typiclust", "auto"])
def test_never_picks_a_labeled_image(strategy):
    x, _ = blobs()
    n = len(x)
    labeled = np.zeros(n, bool)
    labeled[np.random.default_rng(1).choice(n, 50, replace=False)] = True
    for k in (1, 10, 60, n):
        picks = rank(scores_for(n), strategy, k, labeled, features=x, num_classes=6)
        assert len(picks) == min(k, n - 50) and len(set(picks.tolist())) == len(picks)
        assert not labeled[picks].any()
    every = rank(scores_for(n), strategy, n, labeled, features=x, num_classes=6)
    assert sorted(every.tolist()) == np.flatnonzero(~labeled).tolist()


def test_reproducible_for_a_seed():
    x, _ = blobs(centres=8, per=60, spread=3.0)  # overlapping: the clustering has choices
    args = (scores_for(len(x)), "typiclust", 12, list(range(5)))
    a = rank(*args, features=x, seed=3)
    assert rank(*args, features=x, seed=3).tolist() == a.tolist()
    others = {tuple(rank(*args, features=x, seed=s).tolist()) for s in range(4, 10)}
    assert others - {tuple(a.tolist())}  # the seed matters somewhere


def test_one_image_per_cluster_when_the_budget_is_the_cluster_count():
    x, ids = blobs(centres=7, per=30)
    picks = rank(scores_for(len(x)), "typiclust", 7, None, features=x)
    assert sorted(ids[picks].tolist()) == list(range(7))


def test_uncovered_clusters_come_first_and_picks_are_typical():
    x, ids = blobs(centres=5, per=40)
    labeled = np.flatnonzero(np.isin(ids, [0, 1, 2]))[::10]  # clusters 0–2 hold labels
    picks = rank(scores_for(len(x)), "typiclust", 2, labeled, features=x)
    assert sorted(ids[picks].tolist()) == [3, 4]
    # the pick is the densest point of its blob: no blob member is more typical
    for p in picks:
        members = np.flatnonzero(ids == ids[p])
        typ = typicality(x[members])
        assert typ[members.tolist().index(p)] == pytest.approx(typ.max())


def test_auto_switches_from_typicality_to_margin_by_labels_per_class():
    x, _ = blobs(centres=4, per=50)
    n = len(x)
    scores = scores_for(n)
    switch = AUTO_SWITCH_PER_CLASS * 4
    few = list(range(switch - 1))
    assert auto_phase(len(few), 4) == "typiclust"
    assert rank(scores, "auto", 5, few, features=x, num_classes=4).tolist() == \
        rank(scores, "typiclust", 5, few, features=x).tolist()
    enough = list(range(switch))
    assert auto_phase(len(enough), 4) == "margin"
    assert rank(scores, "auto", 5, enough, features=x, num_classes=4).tolist() == \
        rank(scores, "margin", 5, enough, diverse=True, features=x).tolist()
    with pytest.raises(SSVAEError, match="needs the number of classes"):
        rank(scores, "auto", 5, few, features=x)
    with pytest.raises(SSVAEError, match="needs a representation"):
        rank(scores, "typiclust", 5, few)


def test_auto_stays_typical_until_the_model_is_trusted():
    x, _ = blobs(centres=4, per=50)
    scores = scores_for(len(x))
    enough = list(range(AUTO_SWITCH_PER_CLASS * 4))
    typical = rank(scores, "typiclust", 5, enough, features=x).tolist()
    margin = rank(scores, "margin", 5, enough, diverse=True, features=x).tolist()
    assert typical != margin
    for trusted, expected in ((False, typical), (True, margin), (None, margin)):
        assert rank(scores, "auto", 5, enough, features=x, num_classes=4,
                    trusted=trusted).tolist() == expected
    # too few labels: typical whatever the trust
    assert auto_phase(len(enough) - 1, 4, trusted=True) == "typiclust"
    reason = strategy_reason("auto", len(enough), 4, trusted=False,
                             new_labels={"right": 3, "checked": 30})
    assert "typical" in reason and "3 of the last 30" in reason
    assert "least sure" in strategy_reason("auto", len(enough), 4, trusted=True)


def test_trust_counts_new_labels_until_enough_then_decides_once_for_good():
    # a third of the way from chance to all right: 40 % for 10 classes, 2 in 3 for 2
    assert trust_threshold(10) == pytest.approx(0.4) and trust_threshold(2) == pytest.approx(2 / 3)
    start = next_trust(None, None, 10)
    assert start == {"trusted": False, "right": 0, "checked": 0}
    # fewer than the minimum: counted, not decided
    few = next_trust(start, {"right": 4, "checked": TRUST_MIN_CHECKED - 1}, 10)
    assert few == {"trusted": False, "right": 4, "checked": TRUST_MIN_CHECKED - 1}
    # the counts add up to the minimum, and the share right decides
    assert next_trust(few, {"right": 0, "checked": 1}, 10)["trusted"] is True  # 4 of 10
    failed = next_trust(few, {"right": 0, "checked": 30}, 10)
    assert failed == {"trusted": False, "right": 0, "checked": 0}  # a fresh count starts
    # the same share is enough for 10 classes, not for 2 (chance is 50 % there)
    assert next_trust(start, {"right": 6, "checked": 10}, 10)["trusted"] is True
    assert next_trust(start, {"right": 6, "checked": 10}, 2)["trusted"] is False
    assert next_trust(start, {"right": 3, "checked": 10}, 10)["trusted"] is False
    # once trusted, hard margin picks the model gets wrong do not take it back
    trusted = next_trust(start, {"right": 10, "checked": 10}, 10)
    assert next_trust(trusted, {"right": 0, "checked": 30}, 10)["trusted"] is True
    # a crafted or missing record: counts start from zero, nothing raises
    for crafted in ({"trusted": "yes", "right": "a", "checked": -4}, [], "x", {"right": 1.5}):
        assert next_trust(crafted, None, 10) == start
        assert trust_of({"trust": crafted}) is None
    assert trust_of({}) is None and trust_of({"trust": trusted}) is True


def test_one_list_of_strategies_and_a_reason_for_each():
    from ssvae.config import QueryConfig, load_config

    assert DEFAULT_STRATEGY == STRATEGIES[0] == QueryConfig().strategy == load_config().query.strategy
    for name in STRATEGIES:
        for labels in (0, 100):
            text = strategy_reason(name, labels, 10)
            assert text and text != name
    assert "typical" in strategy_reason("auto", 5, 10) and "least sure" in strategy_reason("auto", 30, 10)


def test_labeling_a_queued_image_only_takes_it_out_of_the_queue():
    """The page's queue: labeling its first image leaves the rest in place (the clusters
    stay the same within a block of k labels)."""
    x, _ = blobs(centres=30, per=20, spread=2.0)
    labeled = list(range(0, 600, 97))
    queue = rank(scores_for(len(x)), "typiclust", 20, labeled, features=x).tolist()
    after = rank(scores_for(len(x)), "typiclust", 20, labeled + [queue[0]], features=x).tolist()
    assert after[:19] == queue[1:]


def test_the_diverse_margin_batch_takes_one_image_per_cluster():
    """auto's margin phase spreads its batch (weighted k-means over the 10·k most uncertain):
    with the uncertain candidates in four blobs, a batch of four has one image from each,
    every one among those candidates, none labeled, and the same again for the seed."""
    x, ids = blobs(centres=4, per=50)
    n = len(x)
    margin = np.random.default_rng(3).random(n).astype(np.float32)
    labeled = np.zeros(n, bool)
    labeled[::7] = True
    picks = rank({"margin": margin}, "margin", 4, labeled, diverse=True, features=x)
    assert sorted(ids[picks].tolist()) == [0, 1, 2, 3]
    assert not labeled[picks].any()
    top = np.argsort(-margin[~labeled])[:40]
    assert set(picks.tolist()) <= set(np.flatnonzero(~labeled)[top].tolist())
    again = rank({"margin": margin}, "margin", 4, labeled, diverse=True, features=x)
    assert picks.tolist() == again.tolist()
    plain = rank({"margin": margin}, "margin", 4, labeled)
    assert len(set(ids[plain].tolist())) < 4  # the plain top four share a blob


def test_on_a_large_pool_the_diverse_batch_draws_from_its_most_uncertain_5_percent(monkeypatch):
    """10·k candidates are a sliver of a large pool (0.5 % of 60 000 at k = 30), all on one
    confused boundary; the candidates are the most uncertain DIVERSE_FRACTION of the pool
    where that is more: here the 40 most uncertain lie in blob 0, the next 160 in blobs 1–3."""
    import ssvae.ranking as ranking

    x, ids = blobs(centres=8, per=500)
    n = len(x)
    rng = np.random.default_rng(5)
    margin = rng.random(n).astype(np.float32) * 0.5  # the rest: certain
    top = rng.permutation(np.flatnonzero(ids == 0))[:40]
    nxt = rng.permutation(np.flatnonzero(np.isin(ids, [1, 2, 3])))[:160]
    margin[top] = 0.9 + rng.random(40) * 0.1
    margin[nxt] = 0.6 + rng.random(160) * 0.1
    assert ranking.DIVERSE_FRACTION * n == 200
    picks = rank({"margin": margin}, "margin", 4, None, diverse=True, features=x)
    assert sorted(ids[picks].tolist()) == [0, 1, 2, 3]
    assert set(picks.tolist()) <= set(top.tolist()) | set(nxt.tolist())
    monkeypatch.setattr(ranking, "DIVERSE_FRACTION", 0.0)  # 10·k alone: all from blob 0
    assert set(ids[rank({"margin": margin}, "margin", 4, None, diverse=True,
                        features=x)].tolist()) == {0}


def test_typical_phase_clusters_the_typical_features_where_given():
    """``query.typical_on: images``: the typical phase clusters ``typical_features`` (one pick
    per blob of them), and the margin phase still ranks by the score over ``features``."""
    groups, ids = blobs(centres=6, per=30, seed=2)
    flat = np.random.default_rng(3).normal(size=groups.shape).astype(np.float32)  # no structure
    n = len(groups)
    picks = rank(scores_for(n), "auto", 6, None, features=flat, typical_features=groups,
                 num_classes=6)
    assert sorted(ids[picks].tolist()) == list(range(6))
    plain = rank(scores_for(n), "auto", 6, None, features=flat, num_classes=6)
    assert len(set(ids[plain].tolist())) < 6  # the structureless features cover fewer blobs
    labeled = np.zeros(n, bool)
    labeled[::2] = True  # past the switch: margin, the same with or without typical features
    margin = rank(scores_for(n), "auto", 6, labeled, features=flat, num_classes=6, trusted=True)
    assert rank(scores_for(n), "auto", 6, labeled, features=flat, typical_features=groups,
                num_classes=6, trusted=True).tolist() == margin.tolist()


def test_typical_phase_on_both_covers_what_either_block_separates():
    """``query.typical_on: both``: the model's features and the images' components side by
    side, each with the same weight, so a batch covers every combination of what the one and
    the other separate, even where one block's numbers are a hundred times the other's."""
    from ssvae.embedding import side_by_side
    from ssvae.predictions import Predictions

    rng = np.random.default_rng(4)
    per = 30
    combo = np.repeat(np.arange(6), per)  # 3 groups in the model's features × 2 in the pixels
    model = rng.normal(size=(3, 5))[combo // 2] * 20 + rng.normal(size=(combo.size, 5)) * 0.3
    pixels = rng.normal(size=(2, 8))[combo % 2] * 2000 + rng.normal(size=(combo.size, 8)) * 30
    n = combo.size
    preds = Predictions(latent=np.zeros((n, 2), np.float32), map2d=np.zeros((n, 2), np.float32),
                        probs=np.full((n, 6), 1 / 6, np.float32), recon=np.zeros(0, np.uint8),
                        scores=scores_for(n), meta={"typical_on": "both"},
                        embedding=model.astype(np.float32), image_embedding=pixels.astype(np.float32))
    both = preds.typical_features
    np.testing.assert_allclose(both, side_by_side(model, pixels), atol=1e-6)
    picks = rank(preds.scores, "auto", 6, None, features=preds.embedding, typical_features=both,
                 num_classes=6)
    assert sorted(combo[picks].tolist()) == list(range(6))
    raw = rank(preds.scores, "auto", 6, None, features=preds.embedding,
               typical_features=np.hstack([model, pixels]).astype(np.float32), num_classes=6)
    assert len(set(combo[raw].tolist())) < 6  # unweighted, the pixels' scale decides alone
    preds.meta["typical_on"] = "images"
    assert preds.typical_features is preds.image_embedding
    preds.image_embedding = None  # query.typical_on: model
    assert preds.typical_features is None
