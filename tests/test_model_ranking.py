"""Ranking on a trained model's predictions: never a labeled image; diverse mode spreads out."""
import numpy as np
import pytest

from model_fixtures import some_labels, tiny_config, tiny_dataset
from ssvae.ranking import STRATEGIES, rank


@pytest.fixture(scope="module")
def trained():
    from ssvae.train import Trainer

    ds = tiny_dataset(n=200)
    labels = some_labels(ds, per_class=3)
    tr = Trainer(tiny_config(), ds)
    tr.train_epochs(2, labels)
    return ds, labels, tr.predict()


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("diverse", [False, True])
def test_never_returns_labeled_images(trained, strategy, diverse):
    ds, labels, preds = trained
    arr = np.full(ds.size, -1)
    for s, c in labels.items():
        arr[s] = c
    for given in (labels.keys(), arr, arr >= 0):
        out = rank(preds.scores, strategy, 30, given, diverse=diverse, latent=preds.latent,
                   num_classes=ds.num_classes)
        assert len(out) == 30 and len(set(out.tolist())) == 30
        assert not set(out.tolist()) & set(labels)
    # asking for more than remain returns exactly the unlabeled ones
    every = rank(preds.scores, strategy, ds.size, arr, diverse=diverse, latent=preds.latent,
                 num_classes=ds.num_classes)
    assert sorted(every.tolist()) == sorted(set(range(ds.size)) - set(labels))


def test_diverse_batch_spreads_out(trained):
    ds, labels, preds = trained
    z = preds.latent

    def spread(idx):
        d = ((z[idx][:, None] - z[idx][None]) ** 2).sum(-1)
        return d[np.triu_indices(len(idx), 1)].min()

    plain = rank(preds.scores, "entropy", 10, list(labels))
    diverse = rank(preds.scores, "entropy", 10, list(labels), diverse=True, latent=z)
    candidates = rank(preds.scores, "entropy", 100, list(labels))
    assert set(diverse.tolist()) <= set(candidates.tolist())  # among the 10·k most uncertain
    assert spread(diverse) > spread(plain)


def test_bald_scores_come_from_monte_carlo(trained):
    _, _, preds = trained
    b = preds.scores["bald"]
    assert (b >= 0).all() and b.max() > 0
    # entropy bounds the mutual information
    assert (b <= preds.scores["entropy"] + 1e-4).all()


def test_random_order_is_fixed_per_image_and_seed():
    """Labeling an image only removes it from the random queue; the rest keeps its order."""
    scores = np.zeros(300)
    first = rank(scores, "random", 20, [], seed=3)
    after = rank(scores, "random", 20, first[:5].tolist() + [int(first[10])], seed=3)
    assert after.tolist()[:14] == [s for s in first.tolist() if s not in first[:5].tolist()
                                   and s != first[10]]
    assert rank(scores, "random", 20, [], seed=3).tolist() == first.tolist()
    assert rank(scores, "random", 20, [], seed=4).tolist() != first.tolist()
    every = rank(scores, "random", 300, list(range(0, 300, 2)), seed=3)
    assert sorted(every.tolist()) == list(range(1, 300, 2))
