"""ssvae.pipeline: one training run from start to finish, and what it refuses to write."""
import jax
import numpy as np
import pytest

from model_fixtures import some_labels, tiny_config, tiny_dataset
from ssvae.pipeline import DivergedError, backups, publish_map, resume, train_and_publish
from ssvae.predictions import Predictions
from ssvae.ranking import trust_of
from ssvae.train import Trainer


@pytest.fixture(scope="module")
def ds():
    return tiny_dataset()


def leaves(tr):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tr.state)]


def test_a_run_writes_checkpoint_then_predictions_and_keeps_older_checkpoints(ds, tmp_path):
    ck, pr = tmp_path / "checkpoint", tmp_path / "predictions.npz"
    tr = Trainer(tiny_config(), ds)
    labels = some_labels(ds)
    for run in range(4):
        out = train_and_publish(tr, 1, labels, checkpoint=ck, predictions=pr, keep=3,
                                meta={"run": run})
        assert out.changed and out.predictions is not None
    assert [p.name for p in backups(ck)] == ["checkpoint.1", "checkpoint.2"]  # keep=3 in all
    saved = Predictions.load(pr)
    assert saved.meta["epoch"] == 4 and saved.meta["run"] == 3
    assert Trainer.from_checkpoint(ck, ds).epoch == 4
    assert Trainer.from_checkpoint(backups(ck)[0], ds).epoch == 3


def test_a_diverging_run_is_rolled_back_and_writes_nothing(ds, tmp_path):
    ck, pr = tmp_path / "checkpoint", tmp_path / "predictions.npz"
    tr = Trainer(tiny_config(), ds)
    labels = some_labels(ds)
    train_and_publish(tr, 1, labels, checkpoint=ck, predictions=pr)
    before = leaves(tr)
    files = ck.read_bytes(), pr.read_bytes()
    tr.configure({"classification_weight": 1e38, "unlabeled_weight": 1e38, "learning_rate": 1.0})
    with pytest.raises(DivergedError, match=r"diverged at epoch 2: the loss became NaN"):
        train_and_publish(tr, 2, labels, checkpoint=ck, predictions=pr)
    assert tr.epoch == 1 and len(tr.history) == 1
    for a, b in zip(before, leaves(tr)):
        np.testing.assert_array_equal(a, b)
    assert (ck.read_bytes(), pr.read_bytes()) == files and backups(ck) == []
    tr.configure({"classification_weight": 50.0, "unlabeled_weight": 1.0, "learning_rate": 3e-3})
    assert train_and_publish(tr, 1, labels, checkpoint=ck, predictions=pr).changed  # still trains


def test_a_run_stopped_before_its_first_epoch_writes_nothing(ds, tmp_path):
    ck = tmp_path / "checkpoint"
    tr = Trainer(tiny_config(), ds)
    out = train_and_publish(tr, 3, some_labels(ds), checkpoint=ck, should_stop=lambda: True)
    assert not out.changed and out.predictions is None and not ck.exists() and tr.epoch == 0


def test_a_restarted_run_stopped_before_its_first_epoch_keeps_the_old_weights(ds, tmp_path):
    """A run from fresh weights that finishes no epoch leaves the trainer on the weights it
    had (the page keeps serving that model); one that finishes publishes where they began."""
    ck, pr = tmp_path / "checkpoint", tmp_path / "predictions.npz"
    tr = Trainer(tiny_config(), ds)
    labels = some_labels(ds)
    train_and_publish(tr, 1, labels, checkpoint=ck)
    before = leaves(tr)
    out = train_and_publish(tr, 2, labels, checkpoint=ck, restart=True, should_stop=lambda: True)
    assert not out.changed and tr.epoch == 1
    for a, b in zip(before, leaves(tr)):
        np.testing.assert_array_equal(a, b)
    out = train_and_publish(tr, 1, labels, checkpoint=ck, predictions=pr, restart=True)
    assert out.changed and tr.epoch == 2 and int(tr.state.step) == tr.steps_per_epoch()
    assert Predictions.load(pr).meta["start_labels"] == len(labels)


def test_resume_falls_back_to_an_older_good_checkpoint(ds, tmp_path):
    ck = tmp_path / "checkpoint"
    tr = Trainer(tiny_config(), ds)
    for _ in range(2):
        train_and_publish(tr, 1, some_labels(ds), checkpoint=ck, predict=False)
    ck.write_bytes(b"torn")
    got, used, problems = resume(ck, ds)
    assert used == backups(ck)[0] and got.epoch == 1
    assert len(problems) == 1 and "is not a readable SSVAE checkpoint" in problems[0]
    assert resume(tmp_path / "none", ds) == (None, None, [])


def test_a_collapsed_model_is_published_with_a_warning(ds, tmp_path, monkeypatch):
    from ssvae.predictions import collapse_warning

    labels = some_labels(ds)
    probs = np.full((ds.size, ds.num_classes), 0.01, np.float32)
    probs[:, 1] = 0.9
    sentence = collapse_warning(probs, labels, ds.class_names)
    assert sentence.startswith("the model has collapsed: it predicts ") and sentence.count(".") == 1
    assert f"'{ds.class_names[1]}' for every labeled image and 100% of all images" in sentence
    healthy = probs.copy()
    healthy[list(labels), :] = 0.0
    healthy[list(labels), list(labels.values())] = 1.0
    assert collapse_warning(healthy, labels, ds.class_names) is None
    one_class = {s: 1 for s in list(labels)[:3]}  # labels of one class: nothing to say
    assert collapse_warning(probs, one_class, ds.class_names) is None

    tr = Trainer(tiny_config(), ds)
    real = tr.predict

    def collapsed(**kw):
        p = real(**kw)
        p.probs[:] = probs
        return p

    monkeypatch.setattr(tr, "predict", collapsed)
    pr = tmp_path / "predictions.npz"
    out = train_and_publish(tr, 1, labels, predictions=pr)
    assert out.warning == sentence and Predictions.load(pr).meta["warning"] == sentence


def test_each_run_scores_the_previous_model_on_the_labels_given_since(ds, tmp_path):
    pr = tmp_path / "predictions.npz"
    tr = Trainer(tiny_config(), ds)
    first = some_labels(ds)
    one = train_and_publish(tr, 1, first, predictions=pr).predictions
    assert "new_labels" not in one.meta  # no earlier model
    assert {int(s): int(c) for s, c in enumerate(one.trained_labels) if c >= 0} == first
    given = {s: int(ds.truth[s]) for s in np.flatnonzero(one.trained_labels < 0)[:7]}
    two = train_and_publish(tr, 1, {**first, **given}, predictions=pr, previous=one).predictions
    right = sum(int(one.pred[s]) == c for s, c in given.items())
    assert two.meta["new_labels"] == {"right": right, "checked": 7}
    # auto's trust: 7 checked labels are too few to decide, so they are kept for the next run
    assert one.meta["trust"] == {"trusted": False, "right": 0, "checked": 0}
    assert two.meta["trust"] == {"trusted": False, "right": right, "checked": 7}
    saved = Predictions.load(pr)
    assert saved.meta["new_labels"] == two.meta["new_labels"]
    assert trust_of(saved.meta) is False
    np.testing.assert_array_equal(saved.trained_labels, two.trained_labels)
    # the same labels again: nothing new to score
    three = train_and_publish(tr, 1, {**first, **given}, previous=two).predictions
    assert "new_labels" not in three.meta
    assert three.meta["trust"] == two.meta["trust"]


def test_a_run_published_with_its_map_later_draws_the_same_map_in_a_second_write(ds, tmp_path):
    pr = tmp_path / "predictions.npz"
    tr = Trainer(tiny_config(), ds)
    labels = some_labels(ds)
    one = train_and_publish(tr, 1, labels, predictions=pr).predictions
    out = train_and_publish(tr, 1, labels, predictions=pr, previous=one, map_kind="later")
    first = Predictions.load(pr)  # the model's classes and scores, the map of the run before
    np.testing.assert_array_equal(first.map2d, one.map2d)
    np.testing.assert_array_equal(first.probs, out.predictions.probs)
    assert first.meta["map"] == "later" and first.meta["epoch"] == 2
    assert out.predictions.pending_map is not None and first.pending_map is None  # never saved
    drawn = publish_map(tr, out.predictions, pr)
    second = Predictions.load(pr)
    assert second.meta["map"] == "umap" and second.meta["step"] == first.meta["step"]
    np.testing.assert_array_equal(second.map2d, drawn.map2d)
    np.testing.assert_array_equal(tr.snapshot.last_map, drawn.map2d)
    assert not np.allclose(second.map2d, one.map2d)  # the new model's layout
    # the map drawn later is the map one go draws from the same model and previous map
    np.testing.assert_allclose(tr.predict(previous=one).map2d, drawn.map2d, atol=1e-5)
    # nothing pending: nothing drawn, nothing written
    before = pr.stat().st_mtime_ns
    assert publish_map(tr, drawn, pr) is drawn and pr.stat().st_mtime_ns == before


def test_nothing_is_left_to_draw_without_labels_or_without_a_map_to_show_meanwhile(ds):
    tr = Trainer(tiny_config(), ds)
    image_map = np.random.default_rng(0).normal(size=(ds.size, 2)).astype(np.float32)
    previous = Predictions.map_only(image_map)
    out = train_and_publish(tr, 1, {}, previous=previous, map_kind="later").predictions
    np.testing.assert_array_equal(out.map2d, image_map)  # no classes to lay out: kept
    assert out.meta["map"] == "kept" and out.pending_map is None
    fresh = Trainer(tiny_config(), ds)  # no map before it: the model's map at once
    out = train_and_publish(fresh, 1, some_labels(ds), map_kind="later").predictions
    assert out.meta["map"] == "umap" and out.pending_map is None
    np.testing.assert_array_equal(fresh.snapshot.last_map, out.map2d)
