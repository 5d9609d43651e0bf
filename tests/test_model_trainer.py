"""The incremental trainer: learning, determinism, resume, stop, no recompile, checkpoints."""
import contextlib

import jax
import numpy as np
import pytest

from model_fixtures import some_labels, tiny_config, tiny_dataset
from ssvae.errors import CheckpointError, LabelsError
from ssvae.predict import pca_map
from ssvae.train import Trainer


@pytest.fixture(scope="module")
def ds():
    return tiny_dataset()


@contextlib.contextmanager
def count_compiles():
    """The names of the jitted functions JAX traces for compilation inside the block."""
    seen: list[str] = []

    def listener(event, duration, **kw):
        if event.startswith("/jax/core/compile/jaxpr_trace"):
            seen.append(kw.get("fun_name", event))

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def leaves(tr):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tr.state)]


def same_state(a, b):
    for x, y in zip(leaves(a), leaves(b)):
        np.testing.assert_array_equal(x, y)


def test_loss_goes_down_and_classifier_learns(ds):
    tr = Trainer(tiny_config(), ds)
    tr.train_epochs(8, some_labels(ds))
    h = tr.history
    assert len(h) == 8 and [e["epoch"] for e in h] == list(range(1, 9))
    assert h[-1]["loss"] < 0.7 * h[0]["loss"]
    assert h[-1]["val_loss"] < h[0]["val_loss"]
    for term in ("recon", "kl_z", "kl_y", "classification", "consistency", "val_recon"):
        assert term in h[-1]
    assert h[-1]["test_accuracy"] > 0.9  # bars in three bands are easy


def test_deterministic_for_a_seed_and_different_across_seeds(ds):
    labels = some_labels(ds)
    a, b = Trainer(tiny_config(), ds), Trainer(tiny_config(), ds)
    a.train_epochs(2, labels)
    b.train_epochs(2, labels)
    same_state(a, b)
    c = Trainer(tiny_config(train={"seed": 1}), ds)
    c.train_epochs(2, labels)
    assert not np.array_equal(leaves(a)[0], leaves(c)[0]) or not np.array_equal(a.val_idx, c.val_idx)


def test_resume_equals_uninterrupted_and_no_recompile(ds, tmp_path):
    labels = some_labels(ds)
    whole = Trainer(tiny_config(), ds)
    whole.train_epochs(3, labels)
    part = Trainer(tiny_config(), ds)
    part.train_epochs(2, labels)
    part.save_checkpoint(tmp_path / "ck.msgpack")
    resumed = Trainer.from_checkpoint(tmp_path / "ck.msgpack", ds)
    assert resumed.epoch == 2 and len(resumed.history) == 2
    np.testing.assert_array_equal(resumed.val_idx, part.val_idx)
    resumed.train_epochs(1, labels)
    same_state(resumed, whole)
    assert resumed.history[-1]["loss"] == pytest.approx(whole.history[-1]["loss"], rel=1e-6)
    # a second call (more labels, other loss weight and learning rate) compiles nothing new
    whole.configure({"classification_weight": 10.0, "learning_rate": 1e-4})
    more = {**labels, 5: int(ds.truth[5]), 7: int(ds.truth[7])}
    with count_compiles() as compiled:
        whole.train_epochs(1, more)
        Trainer(tiny_config(), ds).train_epochs(1, labels)  # nor does a new trainer
    assert compiled == []
    assert whole.num_labels == len(more)


def test_stop_keeps_finished_epochs(ds, tmp_path):
    labels = some_labels(ds)
    ref = Trainer(tiny_config(), ds)
    ref.train_epochs(1, labels)
    tr = Trainer(tiny_config(), ds)
    steps = tr.steps_per_epoch()
    polls = {"n": 0}

    def should_stop():
        polls["n"] += 1
        return polls["n"] > steps + 2  # in the middle of the second epoch

    events = []
    out = tr.train_epochs(5, labels, on_progress=events.append, should_stop=should_stop)
    assert out["stopped"] and out["epochs"] == 1 and tr.epoch == 1 and len(tr.history) == 1
    same_state(tr, ref)  # the unfinished epoch is discarded, the finished one kept
    assert any(e["event"] == "step" for e in events) and any(e["event"] == "epoch" for e in events)
    tr.save_checkpoint(tmp_path / "stopped.msgpack")
    back = Trainer.from_checkpoint(tmp_path / "stopped.msgpack", ds)
    assert back.epoch == 1 and len(back.history) == 1
    same_state(back, ref)


def test_early_stopping_ends_a_run(ds):
    tr = Trainer(tiny_config(train={"early_stopping_patience": 1, "learning_rate": 0.5}), ds)
    out = tr.train_epochs(30, some_labels(ds))
    assert out["early_stopped"] and out["epochs"] < 30


def test_validation_split_is_fixed_and_labels_are_never_held_out(ds):
    a, b = Trainer(tiny_config(), ds), Trainer(tiny_config(), ds)
    np.testing.assert_array_equal(a.val_idx, b.val_idx)
    assert 0 < a.val_idx.size < ds.size
    # a label on a validation image is still trained on: it appears in the labeled batches
    s = int(a.val_idx[0])
    lab = np.full(ds.size, -1)
    lab[s] = int(ds.truth[s])
    _, lidx, mask = a._epoch_indices(0, lab, members=2)
    assert mask == 1.0 and (lidx == s).all()


def test_bad_labels_are_refused(ds):
    tr = Trainer(tiny_config(), ds)
    with pytest.raises(LabelsError):
        tr.train_epochs(1, {0: 7})
    with pytest.raises(LabelsError):
        tr.train_epochs(1, {ds.size: 0})


def test_checkpoint_mismatch_errors(ds, tmp_path):
    tr = Trainer(tiny_config(), ds)
    tr.train_epochs(1, some_labels(ds))
    path = tmp_path / "ck.msgpack"
    tr.save_checkpoint(path)
    with pytest.raises(CheckpointError, match="number of images"):
        Trainer.from_checkpoint(path, tiny_dataset(n=120))
    with pytest.raises(CheckpointError, match="different images"):
        Trainer.from_checkpoint(path, tiny_dataset(seed=5))
    with pytest.raises(CheckpointError, match="model.latent_dim"):
        Trainer.from_checkpoint(path, ds, tiny_config(model={"latent_dim": 6}))
    with pytest.raises(CheckpointError, match="not found"):
        Trainer.from_checkpoint(tmp_path / "none.msgpack", ds)
    bad = tmp_path / "bad.msgpack"
    bad.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a readable"):
        Trainer.from_checkpoint(bad, ds)
    # training settings may change on resume
    ok = Trainer.from_checkpoint(path, ds, tiny_config(train={"learning_rate": 1e-4, "epochs": 9}))
    assert ok.config.train.epochs == 9 and ok.epoch == 1


def test_map_stays_aligned_across_retrains():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 6)) * np.array([5, 2, 1, 0.5, 0.2, 0.1])
    first = pca_map(z)
    # the same latent, with flipped signs: the map is matched back onto the previous one
    flipped = z * np.array([-1, -1, 1, 1, 1, 1])
    again = pca_map(flipped, previous=first)
    np.testing.assert_allclose(again, first - first.mean(0), atol=1e-4)
    # a 2-D latent is its own map (centred)
    two = rng.normal(size=(50, 2))
    np.testing.assert_allclose(pca_map(two), two - two.mean(0), atol=1e-5)


def test_predict_uses_previous_map_and_meta(ds):
    tr = Trainer(tiny_config(), ds)
    labels = some_labels(ds)
    tr.train_epochs(2, labels)
    p1 = tr.predict()
    tr.train_epochs(1, labels)
    p2 = tr.predict(previous=p1)
    # aligned maps correlate positively on both axes
    for ax in (0, 1):
        assert np.corrcoef(p1.map2d[:, ax], p2.map2d[:, ax])[0, 1] > 0.5
    assert p2.meta["epoch"] == 3 and p2.meta["num_labels"] == len(labels)
    assert 0 <= p2.meta["test_accuracy"] <= 1


def test_map_lays_out_the_classes(ds):
    """The map comes from the classifier's features, so images of a class sit together."""
    tr = Trainer(tiny_config(), ds)
    tr.train_epochs(8, some_labels(ds))
    p = tr.predict().map2d
    d = np.linalg.norm(p[:, None, :] - p[None, :, :], axis=-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :5]
    votes = np.array([np.bincount(ds.truth[n], minlength=ds.num_classes).argmax() for n in nearest])
    assert (votes == ds.truth).mean() > 0.9


def test_predictions_carry_the_images_components_when_the_typical_phase_clusters_them(ds, tmp_path):
    from ssvae.embedding import image_features, side_by_side
    from ssvae.predictions import Predictions

    labels = some_labels(ds)
    plain = Trainer(tiny_config(query={"typical_on": "model"}), ds)
    plain.train_epochs(1, labels)
    assert plain.predict(map_kind="pca").image_embedding is None
    assert tiny_config().query.typical_on == "both"  # the default carries them
    tr = Trainer(tiny_config(query={"typical_on": "images"}), ds)
    tr.train_epochs(1, labels)
    p = tr.predict(map_kind="pca")
    want = image_features(ds.images, seed=tr.config.train.seed)[:, :p.image_embedding.shape[1]]
    assert p.image_embedding.shape == (ds.size, min(32, want.shape[1]))
    np.testing.assert_allclose(p.image_embedding, want, atol=1e-5)
    back = Predictions.load(p.save(tmp_path / "p.npz"))
    np.testing.assert_array_equal(back.image_embedding, p.image_embedding)
    np.testing.assert_array_equal(back.typical_features, p.image_embedding)
    both = Trainer(tiny_config(query={"typical_on": "both"}), ds)
    both.train_epochs(1, labels)
    q = Predictions.load(both.predict(map_kind="pca").save(tmp_path / "q.npz"))
    assert q.meta["typical_on"] == "both"
    np.testing.assert_allclose(q.image_embedding, p.image_embedding, atol=1e-6)
    np.testing.assert_allclose(q.typical_features, side_by_side(q.embedding, q.image_embedding))
