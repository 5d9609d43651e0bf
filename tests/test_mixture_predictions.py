"""Mixture-prior diagnostics in the predictions snapshot: π per component and each image's
most likely component, written by the trainer's ``predict`` and read back without JAX."""
from __future__ import annotations

import numpy as np
import pytest

from model_fixtures import some_labels, tiny_config, tiny_dataset
from ssvae.errors import CheckpointError
from ssvae.predictions import Predictions


def test_mixture_model_predictions_carry_weights_and_components(tmp_path):
    from ssvae.train import Trainer

    ds = tiny_dataset()
    tr = Trainer(tiny_config(model={"prior": "mixture", "dirichlet_alpha": 2.0}), ds)
    tr.train_epochs(1, some_labels(ds))
    p = tr.predict(map_kind="pca")
    assert p.has_mixture and p.num_components == ds.num_classes
    assert p.mixture_weights.dtype == np.float32 and np.isclose(p.mixture_weights.sum(), 1.0, atol=1e-5)
    assert p.component.shape == (ds.size,) and p.component.min() >= 0
    assert p.component.max() < ds.num_classes
    assert p.meta["prior"] == "mixture" and p.meta["components"] == ds.num_classes
    back = Predictions.load(p.save(tmp_path / "p.npz"))
    assert back.has_mixture and np.array_equal(back.component, p.component)
    assert np.array_equal(back.mixture_weights, p.mixture_weights)

    untied = Trainer(tiny_config(model={"prior": "mixture", "components": 5}), ds).predict(map_kind="pca")
    assert untied.num_components == 5 and untied.component.max() < 5 and not untied.meta["tied_mixture"]


def test_normal_prior_has_no_mixture_diagnostics(tmp_path):
    from ssvae.train import Trainer

    ds = tiny_dataset()
    p = Trainer(tiny_config(), ds).predict(map_kind="pca")
    assert not p.has_mixture and p.mixture_weights is None and p.component is None
    back = Predictions.load(p.save(tmp_path / "p.npz"))
    assert not back.has_mixture and "mixture_weights" not in np.load(tmp_path / "p.npz").files


def _snapshot(n=6, k=3, **extra):
    return Predictions(latent=np.zeros((n, 2), np.float32), map2d=np.zeros((n, 2), np.float32),
                       probs=np.full((n, k), 1 / k, np.float32), recon=np.zeros((0,), np.uint8),
                       scores={}, meta={"epoch": 1}, **extra)


@pytest.mark.parametrize("arrays, what", [
    ({"mixture_weights": np.ones(3, np.float32) / 3}, "only one of"),
    ({"mixture_weights": np.ones(3, np.float32) / 3, "component": np.array([0, 1, 2, 3, 0, 0], np.int16)},
     "do not match its 3 mixture weights"),
    ({"mixture_weights": np.ones(3, np.float32) / 3, "component": np.zeros(6, np.float32)},
     "do not match"),
    ({"trained_labels": np.zeros(6, np.float32)}, "trained_labels are not one class index per image"),
    ({"trained_labels": np.zeros((6, 2), np.int32)}, "trained_labels are not one class index"),
])
def test_a_crafted_snapshot_with_bad_components_is_refused_in_one_sentence(tmp_path, arrays, what):
    path = _snapshot().save(tmp_path / "p.npz")
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    np.savez(path, **data, **arrays)
    with pytest.raises(CheckpointError, match=what) as err:
        Predictions.load(path)
    assert str(err.value).count(". ") == 0


def test_components_for_other_images_do_not_fit():
    p = _snapshot(mixture_weights=np.ones(3, np.float32) / 3, component=np.zeros(5, np.int16))
    assert not p.fits(6, 3)
    assert not _snapshot(trained_labels=np.full(5, -1, np.int32)).fits(6, 3)
    assert _snapshot(mixture_weights=np.ones(3, np.float32) / 3, component=np.zeros(6, np.int16)).fits(6, 3)
