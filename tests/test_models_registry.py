"""Several named models per data set (``ssvae.models_registry``, ``ssvae models …``): create,
select, rename, delete, the migration of the single-model layout, and the current model
following the selection. No training here: the files a run writes are faked."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from model_fixtures import make_images
from ssvae.cli import main
from ssvae.config import load_config
from ssvae.models_registry import ModelError, ModelRegistry
from ssvae.workspace import current_checkpoint, current_predictions, dataset_dir, model_dir, models


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("SSVAE_WORKSPACE", "SSVAE_DATA", "SSVAE_ARTIFACTS"):
        monkeypatch.delenv(var, raising=False)
    x, y = make_images(30, 8, 8, 1, 3, 0)
    np.savez(tmp_path / "toy.npz", x=x[..., 0], y=y, class_names=np.array(["ant", "bee", "cow"]))
    return ["--dataset", f"npz:{tmp_path / 'toy.npz'}"]


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_single_model_layout_becomes_the_model_named_default(tmp_path):
    root = tmp_path / "toy"
    root.mkdir()
    for name, data in (("checkpoint", b"c0"), ("checkpoint.1", b"c1"), ("predictions.npz", b"p"),
                       ("commands.jsonl", b"{}\n")):
        (root / name).write_bytes(data)
    reg = ModelRegistry(root)
    assert reg.names() == ["default"] and reg.selected() == "default"
    default = root / "models" / "default"
    assert (default / "checkpoint").read_bytes() == b"c0"
    assert (default / "checkpoint.1").read_bytes() == b"c1"
    assert (default / "predictions.npz").read_bytes() == b"p"
    assert not (root / "checkpoint").exists()
    assert (root / "commands.jsonl").read_bytes() == b"{}\n"  # the page's files stay
    assert reg.info("default")["source"] == "migrated" and reg.info("default")["config"] is None
    ModelRegistry(root).ensure()  # once only
    assert (default / "checkpoint").read_bytes() == b"c0"


def test_create_select_rename_delete(tmp_path):
    reg = ModelRegistry(tmp_path / "toy")
    reg.create("mix", load_config("mixture"), source="mixture")
    assert reg.names() == ["default", "mix"] and reg.selected() == "default"
    base = load_config("default")
    assert reg.config_for("mix", base).model.prior == "mixture"
    assert reg.config_for("mix", base).data == base.data  # the data set's own section wins
    assert reg.config_for("default", base) == base  # no config.yaml: the config it is opened with
    reg.select("mix")
    assert reg.selected() == "mix" and ModelRegistry(tmp_path / "toy").selected() == "mix"
    reg.rename("mix", "mix2")
    assert reg.selected() == "mix2" and reg.names() == ["default", "mix2"]
    assert reg.delete("mix2") == "default"  # the selected one: the selection falls back
    assert reg.names() == ["default"] and reg.selected() == "default"


@pytest.mark.parametrize("call, message", [
    (lambda r: r.create("default", load_config("default")), "already exists"),
    (lambda r: r.create("../x", load_config("default")), "not a valid model name"),
    (lambda r: r.create("", load_config("default")), "not a valid model name"),
    (lambda r: r.select("nope"), "no model named 'nope'"),
    (lambda r: r.delete("nope"), "no model named 'nope'"),
    (lambda r: r.rename("nope", "x"), "no model named 'nope'"),
    (lambda r: r.rename("default", "b"), "already exists"),
    (lambda r: r.folder("nope"), "its models are: b, default"),
])
def test_refusals_are_one_sentence(tmp_path, call, message):
    reg = ModelRegistry(tmp_path / "toy")
    reg.create("b", load_config("default"))
    with pytest.raises(ModelError, match=message) as info:
        call(reg)
    text = str(info.value)
    assert text.endswith(".") and "\n" not in text


def test_a_model_in_training_is_not_deleted_or_renamed(tmp_path):
    reg = ModelRegistry(tmp_path / "toy")
    reg.create("b", load_config("default"))
    with reg.training_marker("default", "run-1"):
        assert reg.info("default")["training"]
        with pytest.raises(ModelError, match="'default' is training now; stop its run"):
            reg.delete("default")
        with pytest.raises(ModelError, match="is training now"):
            reg.rename("default", "c")
    assert reg.training("default") is None
    # a marker its process left behind (the process is gone) does not block
    (reg.models_root / "default" / "training.json").write_text(json.dumps({"pid": 2 ** 22 + 12345}))
    assert reg.training("default") is None
    reg.delete("default")
    assert reg.names() == ["b"] and reg.selected() == "b"
    with pytest.raises(ModelError, match="only model"):
        reg.delete("b")


def test_runs_history(tmp_path):
    reg = ModelRegistry(tmp_path / "toy")
    reg.append_run("default", {"run_id": "r1", "status": "finished", "test_accuracy": 0.5})
    (reg.models_root / "default" / "runs.jsonl").open("a").write("not json\n")
    reg.append_run("default", {"run_id": "r2", "status": "stopped", "test_accuracy": 0.75})
    assert [r["run_id"] for r in reg.runs("default")] == ["r1", "r2"]
    assert reg.info("default")["latest_run"]["test_accuracy"] == 0.75


def test_the_current_model_follows_the_selection(toy, tmp_path, capsys):
    code, out, _ = cli(capsys, "models", "create", "mix", "--config", "mixture", *toy)
    assert code == 0 and "created model 'mix' (mixture prior)" in out
    folder = dataset_dir("toy") / "models"
    (folder / "default" / "predictions.npz").write_bytes(b"p-default")
    (folder / "default" / "checkpoint").write_bytes(b"c-default")
    assert model_dir("toy") == folder / "default"
    assert current_predictions("toy") == folder / "default" / "predictions.npz"
    code, out, _ = cli(capsys, "models", "select", "mix", *toy)
    assert code == 0 and "selected model 'mix'" in out
    assert model_dir("toy") == folder / "mix"
    assert current_predictions("toy", required=False) is None  # mix is not trained yet
    with pytest.raises(Exception, match=r"models/mix"):
        current_checkpoint("toy")
    code, _, err = cli(capsys, "rank", *toy)  # rank follows the selection
    assert code == 2 and "models/mix" in err and err.count("\n") == 1

    code, out, _ = cli(capsys, "models", "list", *toy)
    assert code == 0
    lines = out.splitlines()
    assert lines[2].startswith("  default") and lines[3].startswith("* mix")
    assert "mixture" in lines[3]
    code, out, _ = cli(capsys, "models", "show", *toy)
    assert code == 0 and "model 'mix' of data set 'toy' (selected)" in out and "prior mixture" in out


def test_cli_errors_are_one_sentence(toy, tmp_path, capsys):
    for argv, message in (
            (["models", "delete", "nope"], "no model named 'nope' for data set 'toy'"),
            (["models", "delete", "default"], "is the only model"),
            (["models", "select", "nope"], "no model named 'nope'"),
            (["models", "show", "nope"], "no model named 'nope'"),
            (["models", "create", "a b"], "not a valid model name"),
            (["models", "create", "x", "--config", str(tmp_path / "no.yaml")], "config file not found")):
        code, _, err = cli(capsys, *argv, *toy)
        assert code == 2, argv
        assert err.startswith("ssvae: error:") and message in err and err.count("\n") == 1, err
    cli(capsys, "models", "create", "b", *toy)
    reg = models("toy")
    with reg.training_marker("default"):
        code, _, err = cli(capsys, "models", "delete", "default", *toy)
    assert code == 2 and "'default' is training now" in err and err.count("\n") == 1
    code, out, _ = cli(capsys, "models", "delete", "default", *toy)
    assert code == 0 and "the selected model is 'b' (labels untouched)" in out


def test_a_marker_from_another_live_process_counts(tmp_path):
    reg = ModelRegistry(tmp_path / "toy")
    reg.create("b", load_config("default"))
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (reg.models_root / "b" / "training.json").write_text(json.dumps({"pid": proc.pid}))
        with pytest.raises(ModelError, match="training now"):
            reg.delete("b")
    finally:
        proc.kill()
        proc.wait()
    assert reg.training("b") is None and os.path.isdir(reg.models_root / "b")


TINY_MIXTURE_YAML = """
model: {latent_dim: 4, hidden: [32], classifier_hidden: [32], prior: mixture}
train: {epochs: 1, batch_size: 32, labeled_batch_size: 8, mc_samples: 4}
"""


def test_ssvae_train_trains_the_selected_model_with_its_config(toy, tmp_path, capsys):
    (tmp_path / "tiny-mix.yaml").write_text(TINY_MIXTURE_YAML)
    (tmp_path / "labels.csv").write_text("Serial,label\n0,ant\n1,bee\n2,cow\n")
    data = [*toy, "--labels", str(tmp_path / "labels.csv")]
    assert cli(capsys, "models", "create", "mix", "--config", str(tmp_path / "tiny-mix.yaml"),
               "--select", *toy)[0] == 0
    code, out, err = cli(capsys, "train", *data)  # no --config: the model's own
    assert code == 0, err
    assert "the selected model 'mix'" in out
    run_dir = next((tmp_path / "artifacts" / "runs").iterdir())
    assert run_dir.name.endswith("-mix") and "prior: mixture" in (run_dir / "config.yaml").read_text()
    reg = models("toy")
    assert (reg.folder("mix") / "checkpoint").is_file() and not (reg.folder("default") / "checkpoint").exists()
    assert [r["status"] for r in reg.runs("mix")] == ["finished"] and reg.runs("default") == []
    code, _, err = cli(capsys, "train", *data, "--resume", "--epochs", "1")  # continues mix
    assert code == 0, err
    assert len(reg.runs("mix")) == 2
