"""Networks and predictions have the right shapes for dense and conv on non-28×28 inputs."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from model_fixtures import tiny_config, tiny_dataset
from ssvae.models import SSVAE


@pytest.mark.parametrize("encoder", ["dense", "conv"])
@pytest.mark.parametrize("shape", [(20, 24, 3), (9, 13, 1)])
@pytest.mark.parametrize("classifier", ["image", "latent", "conv_pool"])
def test_module_shapes(encoder, shape, classifier):
    cfg = tiny_config(model={"encoder": encoder, "classifier": classifier, "prior": "mixture"})
    model = SSVAE.from_config(cfg.model, shape, 5)
    x = jnp.zeros((3, *shape))
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    logits, recon, mean, logvar = model.apply({"params": params}, x)
    assert logits.shape == (3, 5)
    assert recon.shape == (3, *shape)
    assert mean.shape == logvar.shape == (3, 4)
    means, logvars, log_pi = model.apply({"params": params}, method=SSVAE.prior_params)
    assert means.shape == logvars.shape == (5, 4) and log_pi.shape == (5,)
    np.testing.assert_allclose(np.exp(np.asarray(log_pi)).sum(), 1.0, rtol=1e-5)


@pytest.mark.parametrize("shape", [(7, 9, 2), (28, 28, 1)])
def test_the_pooled_trunks_max_pool_is_flaxs_on_relu_maps(shape):
    """max_pool_2x2 (a reshape and a max) gives nn.max_pool's SAME-padded 2×2 result on
    non-negative maps, odd sides included."""
    import flax.linen as nn

    from ssvae.models import max_pool_2x2

    x = jax.nn.relu(jax.random.normal(jax.random.PRNGKey(1), (2, *shape)))
    want = nn.max_pool(x, (2, 2), (2, 2), padding="SAME")
    got = max_pool_2x2(x)
    assert got.shape == want.shape == (2, (shape[0] + 1) // 2, (shape[1] + 1) // 2, shape[2])
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("encoder", ["dense", "conv"])
def test_trainer_and_predict_on_colour_images(encoder):
    from ssvae.train import Trainer

    ds = tiny_dataset(n=64, h=10, w=14, c=3, classes=4)
    cfg = tiny_config(model={"encoder": encoder}, train={"epochs": 1})
    tr = Trainer(cfg, ds)
    tr.train_epochs(1, {0: 0, 1: 1, 2: 2, 3: 3})
    p = tr.predict()
    assert p.latent.shape == (64, 4) and p.map2d.shape == (64, 2)
    assert p.probs.shape == (64, 4) and np.allclose(p.probs.sum(1), 1, atol=1e-5)
    assert p.recon.shape == (64, 10, 14, 3) and p.recon.dtype == np.uint8
    assert set(p.scores) >= {"entropy", "margin", "least_confidence", "bald"}
    assert all(v.shape == (64,) and np.isfinite(v).all() for v in p.scores.values())


@pytest.mark.parametrize("model_opts,train_opts", [
    ({"prior": "mixture", "components": 5, "dirichlet_alpha": 2.0},               # free components
     {"consistency_weight": 30.0, "consistency_threshold": 0.5, "consistency_temperature": 0.5,
      "augment_intensity": 0.3}),
    ({"prior": "mixture", "dirichlet_alpha": 2.0, "likelihood": "mse"}, {"unlabeled": "expect"}),
    ({"decoder_uses_y": False, "classifier": "latent", "classifier_dropout": 0.0},
     {"kl_warmup_epochs": 2.0, "augment_rotate": 0.0, "augment_scale": 0.0, "consistency_weight": 0.0}),
])
def test_every_option_trains_with_finite_terms(model_opts, train_opts):
    from ssvae.train import Trainer

    ds = tiny_dataset(n=64)
    tr = Trainer(tiny_config(model=model_opts, train=train_opts), ds)
    tr.train_epochs(2, {0: 0, 1: 1, 2: 2})
    last = tr.history[-1]
    for k in ("loss", "recon", "kl_z", "kl_y", "classification", "val_loss"):
        assert np.isfinite(last[k]), k
    assert last["kl_z"] >= 0 and last["kl_y"] >= -1e-4
    p = tr.predict()
    assert np.isfinite(p.scores["bald"]).all()


def test_random_intensity_keeps_the_range_the_background_and_each_images_order_of_pixels():
    from ssvae.objective import random_intensity

    rng = np.random.default_rng(0)
    x = rng.random((16, 5, 6, 1)).astype(np.float32) * (rng.random((16, 5, 6, 1)) > 0.3)
    out = np.asarray(random_intensity(jax.random.PRNGKey(0), jnp.asarray(x), 0.3))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert np.abs(out[x == 0]).max() < 1e-3                        # a black background stays black
    flat_x, flat_o = x.reshape(16, -1), out.reshape(16, -1)
    for xi, oi in zip(flat_x, flat_o):                            # brighter pixels stay brighter
        order = np.argsort(xi, kind="stable")
        assert np.all(np.diff(oi[order]) >= -1e-6)
    changes = np.abs(flat_o - flat_x).max(1)
    assert (changes > 0.02).sum() >= 12                           # most images are changed ...
    ratios = flat_o[:, 0:1] / np.maximum(flat_x[:, 0:1], 1e-3)
    assert np.ptp(ratios[flat_x[:, 0] > 0.2]) > 0.05              # ... and not all alike
    tiny = np.asarray(random_intensity(jax.random.PRNGKey(0), jnp.asarray(x), 1e-4))
    np.testing.assert_allclose(tiny, x, atol=1e-3)


def test_the_shape_view_ignores_colour_brightness_and_contrast_but_not_the_shape():
    from ssvae.models import shape_view

    rng = np.random.default_rng(0)
    mask = (rng.random((2, 6, 7, 1)) > 0.5).astype(np.float32)           # two "letters"
    orange_on_navy = mask * np.array([1.0, 0.6, 0.2]) + (1 - mask) * np.array([0.0, 0.1, 0.3])
    grey_on_black = mask * np.array([0.5, 0.5, 0.5]) + (1 - mask) * 0.05
    a, b = np.asarray(shape_view(jnp.asarray(orange_on_navy))), np.asarray(shape_view(jnp.asarray(grey_on_black)))
    assert a.shape == (2, 6, 7, 1)
    np.testing.assert_allclose(a, b, atol=1e-2)  # up to the guard against a blank image
    np.testing.assert_allclose(a.mean((1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(a.std((1, 2, 3)), 1, atol=1e-2)
    assert not np.allclose(a[0], a[1], atol=0.1)                          # the shapes differ


@pytest.mark.parametrize("view, channels, sees", [("auto", 3, "shape"), ("auto", 1, "pixels"),
                                                  ("pixels", 3, "pixels"), ("shape", 1, "shape")])
def test_the_classifier_view_is_resolved_from_the_images(view, channels, sees):
    """`model.classifier_view: auto` shows an image classifier each colour image's standardised
    luminance (one channel) and grey images as they are."""
    cfg = tiny_config(model={"classifier_view": view, "classifier": "dense"})
    model = SSVAE.from_config(cfg.model, (6, 7, channels), 3)
    assert model.classifier_view == sees
    x = jnp.asarray(np.random.default_rng(0).random((2, 6, 7, channels)), jnp.float32)
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    first = params["classifier"]["trunk"]["Dense_0"]["kernel"]
    assert first.shape[0] == 6 * 7 * (1 if sees == "shape" else channels)


def test_a_colour_checkpoint_from_before_the_view_loads_as_the_pixel_model_it_was(tmp_path):
    from flax import serialization

    from ssvae.checkpoint import load_checkpoint, save_checkpoint
    from ssvae.train import Trainer

    ds = tiny_dataset(n=32, h=6, w=7, c=3, classes=3)
    tr = Trainer(tiny_config(model={"classifier_view": "pixels"}), ds)
    path = save_checkpoint(tr.snapshot, ds, tmp_path / "old.ckpt")
    payload = serialization.msgpack_restore(path.read_bytes())
    meta = json.loads(payload["meta"])
    del meta["config"]["model"]["classifier_view"]  # as written before the option existed
    payload["meta"] = json.dumps(meta)
    path.write_bytes(serialization.msgpack_serialize(payload))
    snap = load_checkpoint(path, ds)
    assert snap.config.model.classifier_view == "pixels"
    assert snap.model.classifier_view == "pixels"
