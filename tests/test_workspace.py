"""Where things are read and written: shipped files come from the packages, the user's data,
labels and artifacts from the workspace (current directory, --workspace or SSVAE_WORKSPACE);
one current model per data set that rank, map and the page find by default. No JAX."""
from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from model_fixtures import make_images
from ssvae import paths
from ssvae.cli import main
from ssvae.predictions import Predictions
from ssvae.workspace import current_checkpoint, current_predictions, model_dir


@pytest.fixture
def no_env(monkeypatch):
    for var in (paths.WORKSPACE_ENV, "SSVAE_DATA", "SSVAE_ARTIFACTS"):
        monkeypatch.delenv(var, raising=False)


def test_shipped_files_come_from_the_packages():
    import dashboard.app
    import ssvae

    pkg = Path(ssvae.__file__).resolve().parent
    assert paths.configs_root() == pkg / "configs"
    assert {p.stem for p in paths.configs_root().glob("*.yaml")} >= {"default", "quick"}
    assert (paths.bundled_data_root() / "mnist_5k.npz").is_file()
    assets = Path(dashboard.app.ASSETS)
    assert assets == Path(dashboard.app.__file__).resolve().parent / "assets"
    assert {"dashboard.css", "keyboard.js"} <= {p.name for p in assets.iterdir()}


def test_the_workspace_is_the_current_directory_by_default(tmp_path, monkeypatch, no_env, capsys):
    monkeypatch.chdir(tmp_path)
    assert paths.data_root() == tmp_path.resolve() / "data"
    assert paths.artifacts_root() == tmp_path.resolve() / "artifacts"
    assert main(["data", "info"]) == 0
    assert f"{tmp_path.resolve() / 'data' / 'mnist' / 'labels.csv'} (0 labeled)" in capsys.readouterr().out


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_workspace_can_be_chosen(tmp_path, monkeypatch, no_env, capsys, how):
    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.chdir(tmp_path)
    if how == "option":
        argv = ["--workspace", str(ws), "data", "info"]
    else:
        monkeypatch.setenv(paths.WORKSPACE_ENV, str(ws))
        argv = ["data", "info"]
    assert main(argv) == 0
    assert f"{ws / 'data' / 'mnist' / 'labels.csv'}" in capsys.readouterr().out
    # the option is exported for the command only (and the worker it starts), then restored
    assert os.environ.get(paths.WORKSPACE_ENV) == (str(ws) if how == "environment" else None)


def test_dashboard_option_after_its_name_wins(tmp_path, monkeypatch, no_env):
    import argparse

    from ssvae.cli import build_parser

    args = build_parser().parse_args(["--workspace", "a", "dashboard", "--workspace", "b"])
    assert args.workspace_root == "b"
    args = build_parser().parse_args(["--workspace", "a", "dashboard"])
    assert args.workspace_root == "a"
    assert isinstance(build_parser().parse_args(["data", "info"]), argparse.Namespace)


def test_bad_workspaces_are_one_sentence(tmp_path, monkeypatch, no_env, capsys):
    assert main(["--workspace", str(tmp_path / "nope"), "data", "info"]) == 2
    err = capsys.readouterr().err
    assert "no such folder" in err and err.count("\n") == 1 and "Traceback" not in err
    monkeypatch.setenv(paths.WORKSPACE_ENV, str(tmp_path / "nope"))
    assert main(["data", "info"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    site = Path(sysconfig.get_path("purelib"))
    monkeypatch.setenv(paths.WORKSPACE_ENV, str(site))
    assert main(["data", "info"]) == 2
    err = capsys.readouterr().err
    assert "inside the Python installation" in err and err.count("\n") == 1


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("ssvae ") and out.split()[1][0].isdigit()


@pytest.mark.parametrize("given", ["quick", "quick.yaml", "configs/quick.yaml"])
def test_a_shipped_config_by_name(tmp_path, monkeypatch, given):
    from ssvae.config import load_config

    monkeypatch.chdir(tmp_path)  # no configs/ folder here
    assert load_config(given) == load_config(paths.configs_root() / "quick.yaml")


def test_a_file_of_the_same_name_in_the_workspace_wins(tmp_path, monkeypatch):
    from ssvae.config import load_config

    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "quick.yaml").write_text("train: {epochs: 7}\n")
    assert load_config("configs/quick.yaml").train.epochs == 7


# ---- the current model ------------------------------------------------------------------------

@pytest.fixture
def toy(tmp_path, monkeypatch, no_env):
    monkeypatch.chdir(tmp_path)
    x, y = make_images(40, 8, 8, 1, 3, 0)
    np.savez(tmp_path / "toy.npz", x=x[..., 0], y=y, class_names=np.array(["ant", "bee", "cow"]))
    return f"npz:{tmp_path / 'toy.npz'}"


def page_snapshot(n: int = 40, k: int = 3) -> Predictions:
    """A predictions snapshot as the page's worker writes it (image 7 the least sure)."""
    probs = np.tile(np.array([0.9, 0.05, 0.05], np.float32), (n, 1))
    probs[7] = [0.34, 0.33, 0.33]
    return Predictions(latent=np.zeros((n, 4), np.float32), map2d=np.zeros((n, 2), np.float32),
                       probs=probs, recon=np.zeros((n, 8, 8, 1), np.uint8),
                       scores={"margin": 1 - (probs[:, 0] - probs[:, 1])},
                       meta={"epoch": 2, "num_labels": 3})


def test_rank_and_the_page_find_the_current_model(toy, tmp_path, capsys):
    assert main(["rank", "--dataset", toy, "--strategy", "margin"]) == 2
    err = capsys.readouterr().err
    dataset_folder = tmp_path.resolve() / "artifacts" / "workspace" / "toy"
    folder = dataset_folder / "models" / "default"  # the selected model's
    assert f"no predictions.npz in {folder}" in err and "ssvae train" in err and err.count("\n") == 1
    with pytest.raises(Exception, match="--resume DIR"):
        current_checkpoint("toy")

    assert model_dir("toy") == folder
    folder.mkdir(parents=True, exist_ok=True)
    page_snapshot().save(folder / "predictions.npz")  # as the page's worker publishes it
    assert current_predictions("toy") == folder / "predictions.npz"
    assert main(["rank", "--dataset", toy, "--strategy", "margin", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert f"predictions of {folder.name}" in out
    assert int(out.strip().splitlines()[2].split()[1]) == 7  # the least sure image first
    assert out.strip().splitlines()[-1] == "why: images whose two likeliest classes are closest"

    from ssvae.data import load_dataset

    from dashboard.app import open_state

    state, _ = open_state(load_dataset(toy))
    assert state.workspace.root == dataset_folder and state.workspace.model_root == folder
    assert state.predictions is not None
