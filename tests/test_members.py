"""Several models trained side by side on the labels (``train.members``): each member trains as
the model of its own seed would, q(y|x) is their average wherever it is read, a label-free model
is one member, and checkpoints keep the members (older single-model files still load)."""
import json

import jax
import numpy as np
import pytest
from flax import serialization

from model_fixtures import some_labels, tiny_config, tiny_dataset
from ssvae import core
from ssvae.checkpoint import read_checkpoint
from ssvae.errors import CheckpointError, ConfigError
from ssvae.models import to_float
from ssvae.ranking import probability_scores
from ssvae.train import Trainer


@pytest.fixture(scope="module")
def ds():
    return tiny_dataset()


def pair(**train):
    return tiny_config(train={"members": 2, **train})


def leaves(tree):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


def test_each_member_trains_as_the_model_of_its_own_seed(ds):
    labels = some_labels(ds)
    two = Trainer(pair(), ds)
    two.train_epochs(2, labels)
    assert two.snapshot.members == 2
    for m, seed in ((0, 0), (1, core.member_seed(0, 1))):
        alone = Trainer(tiny_config(train={"seed": seed}), ds)
        alone.val_idx[:] = two.val_idx  # the members share the model's validation split
        alone.train_epochs(2, labels)
        for a, b in zip(leaves(core.member(two.state.params, m)), leaves(core.member(alone.state.params, 0))):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    first, second = (leaves(core.member(two.state.params, m)) for m in (0, 1))
    assert any(not np.allclose(a, b) for a, b in zip(first, second))


def test_the_pair_predicts_the_members_average(ds):
    tr = Trainer(pair(), ds)
    tr.train_epochs(2, some_labels(ds))
    params, model = tr.eval_params, tr.model
    x = to_float(jax.numpy.asarray(ds.images))
    each = [np.asarray(core.member_probs(core.stacked([core.member(params, m)]), x, model=model))
            for m in range(2)]
    assert not np.allclose(each[0], each[1], atol=1e-3)
    average = (each[0] + each[1]) / 2
    preds = tr.predict(map_kind="pca")
    np.testing.assert_allclose(preds.probs, average, atol=1e-5)
    test_pred = np.asarray(tr.test_predictions())
    xt = to_float(jax.numpy.asarray(ds.test_images))
    np.testing.assert_array_equal(test_pred, np.asarray(core.member_probs(params, xt, model=model)).argmax(1))
    assert tr.history[-1]["test_accuracy"] == pytest.approx(float((test_pred == ds.test_truth).mean()))
    # the queue ranks by the first member's uncertainty (the average's over-asks where the
    # members disagree), as a single model of the same seed would
    for name, score in probability_scores(each[0]).items():
        np.testing.assert_allclose(preds.scores[name], score, atol=1e-5)
    assert not np.allclose(preds.scores["margin"], probability_scores(average)["margin"], atol=1e-3)


def test_a_label_free_model_is_one_member_and_its_first_labeled_run_two(ds):
    tr = Trainer(pair(), ds)
    tr.train_epochs(1, None)
    assert tr.snapshot.members == 1
    tr.train_epochs(1, some_labels(ds))  # trained weights are kept, not doubled
    assert tr.snapshot.members == 1
    tr.restart()
    assert tr.snapshot.members == 1 and int(tr.state.step) == 0
    tr.train_epochs(1, some_labels(ds))
    assert tr.snapshot.members == 2
    assert tr.snapshot.start_labels == len(some_labels(ds))


def test_checkpoints_keep_the_members_and_resume_exactly(ds, tmp_path):
    labels = some_labels(ds)
    whole = Trainer(pair(), ds)
    whole.train_epochs(2, labels)
    part = Trainer(pair(), ds)
    part.train_epochs(1, labels)
    part.save_checkpoint(tmp_path / "pair.msgpack")
    assert read_checkpoint(tmp_path / "pair.msgpack")[0]["members"] == 2
    resumed = Trainer.from_checkpoint(tmp_path / "pair.msgpack", ds)
    assert resumed.snapshot.members == 2
    resumed.train_epochs(1, labels)
    for a, b in zip(leaves(resumed.state), leaves(whole.state)):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_written_before_members_loads_as_one_member(ds, tmp_path):
    tr = Trainer(tiny_config(), ds)
    tr.train_epochs(1, some_labels(ds))
    tr.save_checkpoint(tmp_path / "new.msgpack")
    meta, payload = read_checkpoint(tmp_path / "new.msgpack")
    # the old layout: no member count, no member axis on the weights and optimizer state
    del meta["members"]
    payload["meta"] = json.dumps(meta)
    payload["state"] = {k: (v if k == "step" else jax.tree_util.tree_map(lambda x: x[0], v))
                        for k, v in payload["state"].items()}
    (tmp_path / "old.msgpack").write_bytes(serialization.msgpack_serialize(payload))
    old = Trainer.from_checkpoint(tmp_path / "old.msgpack", ds)
    assert old.snapshot.members == 1
    for a, b in zip(leaves(old.state), leaves(tr.state)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(old.test_predictions(), tr.test_predictions())


def test_a_bad_member_count_is_refused_in_one_sentence(ds, tmp_path):
    with pytest.raises(ConfigError, match="members"):
        tiny_config(train={"members": 0})
    tr = Trainer(tiny_config(), ds)
    tr.save_checkpoint(tmp_path / "ck.msgpack")
    meta, payload = read_checkpoint(tmp_path / "ck.msgpack")
    payload["meta"] = json.dumps({**meta, "members": "two"})
    (tmp_path / "bad.msgpack").write_bytes(serialization.msgpack_serialize(payload))
    with pytest.raises(CheckpointError, match="member count 'two'"):
        Trainer.from_checkpoint(tmp_path / "bad.msgpack", ds)
