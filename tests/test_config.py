"""Typed configuration: the shipped files load, and every bad value names its key."""
from __future__ import annotations

import pytest

from ssvae.config import Config, load_config
from ssvae.errors import ConfigError
from ssvae.paths import configs_root


@pytest.mark.parametrize("name", ["default", "quick", "mixture", "fixmatch", "dense", "pair"])
def test_shipped_configs_load(name):
    cfg = load_config(name)
    assert isinstance(cfg, Config)
    assert cfg == load_config(configs_root() / f"{name}.yaml")


def test_dense_is_the_default_but_its_classifier():
    """configs/dense.yaml copies default.yaml with the previous classifier; it must not drift."""
    dense, default = load_config("dense"), load_config("default")
    assert default.model.classifier == "conv" and default.train.classification_weight == 10
    assert dense.model.classifier == "image" and dense.train.classification_weight == 50
    assert dense.model_copy(update={"model": default.model, "train": default.train}) == default
    assert dense.model.model_copy(update={"classifier": default.model.classifier}) == default.model
    assert dense.train.model_copy(update={"classification_weight": default.train.classification_weight}) \
        == default.train


def test_pair_is_the_default_with_two_members():
    """configs/pair.yaml copies default.yaml with train.members 2; it must not drift."""
    pair, default = load_config("pair"), load_config("default")
    assert default.train.members == 1 and pair.train.members == 2
    assert pair.train.model_copy(update={"members": 1}) == default.train
    assert pair.model_copy(update={"train": default.train}) == default


def test_quick_is_smaller_than_default():
    assert load_config("quick").train.epochs < load_config("default").train.epochs


def test_overrides_are_validated():
    cfg = load_config("quick", {"train.epochs": 7, "data.dataset": "npz:/x.npz"})
    assert cfg.train.epochs == 7 and cfg.data.dataset == "npz:/x.npz"
    with pytest.raises(ConfigError, match="'train.epochs' must be greater than or equal to 1"):
        load_config("quick", {"train.epochs": 0})


@pytest.mark.parametrize("text, message", [
    ("model: {latnet_dim: 3}", "unknown key 'model.latnet_dim'; allowed keys in model are: "),
    ("trian: {epochs: 3}", "unknown key 'trian'; allowed keys are: data, model, query, train"),
    ("model: {latent_dim: 0}", "'model.latent_dim' must be greater than or equal to 2 \\(got 0\\)"),
    ("train: {learning_rate: fast}", "'train.learning_rate' must be a valid number"),
    ("train: {epochs: 2.5}", "'train.epochs' must be a valid integer"),
    ("model: {encoder: resnet}", "'model.encoder' must be 'dense' or 'conv' \\(got 'resnet'\\)"),
    ("query: {strategy: best}", "'query.strategy' must be"),
    ("- 1\n- 2\n", "must be a mapping of sections"),
    ("train: {epochs: [1\n", "is not valid YAML at line"),
    ("query:\n  k: 5\n  k: 6\n", "is not valid YAML at line 3 \\(the key 'k' is given twice\\)"),
    ("data: 5", "'data' must be a valid dictionary"),
])
def test_bad_values_give_one_sentence_naming_the_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) and msg.endswith(".") and "\n" not in msg


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_empty_file_means_defaults(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    assert load_config(tmp_path / "empty.yaml") == Config()
