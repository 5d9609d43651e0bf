"""`ssvae train` and `ssvae rank` end to end on a tiny data set; the CLI stays JAX-free."""
import subprocess
import sys

import pytest

from model_fixtures import save_npz
from ssvae.cli import main
from ssvae.predictions import Predictions

TINY_YAML = """
model: {latent_dim: 4, hidden: [32], classifier_hidden: [32]}
train: {epochs: 2, batch_size: 32, labeled_batch_size: 8, mc_samples: 4}
"""


@pytest.fixture()
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("SSVAE_DATA", str(tmp_path / "data"))
    npz = tmp_path / "tiny.npz"
    save_npz(npz, 150, 12)
    labels = tmp_path / "labels.csv"
    labels.write_text("Serial,label\n0,a\n1,b\n2,c\n")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY_YAML)
    return {"npz": npz, "labels": labels, "cfg": cfg, "art": tmp_path / "artifacts"}


def test_train_writes_a_complete_run_and_rank_uses_it(tiny, capsys):
    args = ["--config", str(tiny["cfg"]), "--dataset", f"npz:{tiny['npz']}", "--labels", str(tiny["labels"])]
    assert main(["train", *args]) == 0
    runs = sorted((tiny["art"] / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.endswith("-tiny")
    run = runs[0]
    for f in ("config.yaml", "history.csv", "checkpoint.msgpack", "predictions.npz", "REPORT.md",
              "loss_curves.html", "latent_map.html", "reconstructions.png", "confusion_matrix.html"):
        assert (run / f).is_file(), f
    report = (run / "REPORT.md").read_text()
    for link in ("loss_curves.html", "latent_map.html", "reconstructions.png", "confusion_matrix.html"):
        assert f"({link})" in report
    assert len((run / "history.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    preds = Predictions.load(run / "predictions.npz")
    assert preds.probs.shape == (150, 3) and "bald" in preds.scores
    # the run's model is now the data set's current one, where the page and rank look
    current = tiny["art"] / "workspace" / "tiny" / "models" / "default"  # the selected model
    assert (current / "checkpoint").read_bytes() == (run / "checkpoint.msgpack").read_bytes()
    assert (current / "predictions.npz").read_bytes() == (run / "predictions.npz").read_bytes()
    from ssvae.workspace import models

    runs_of_model = models("tiny").runs("default")  # the model's run history
    assert [r["status"] for r in runs_of_model] == ["finished"] and runs_of_model[0]["labels"] == 3

    capsys.readouterr()
    assert main(["rank", *args, "-k", "7", "--strategy", "margin"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[2:-1]  # the table, not the last line (why)
    serials = [int(l.split()[1]) for l in lines]
    assert len(serials) == 7 and not {0, 1, 2} & set(serials)

    # resume continues the current model's epoch count in a new run folder; --keep-current
    # leaves the current model as it was
    before = (current / "predictions.npz").read_bytes()
    tiny["labels"].write_text("Serial,label\n0,a\n1,b\n2,c\n3,a\n4,b\n")  # two labels since
    capsys.readouterr()
    assert main(["train", *args, "--resume", "--epochs", "1", "--keep-current"]) == 0
    said = Predictions.load(current / "predictions.npz").pred[[3, 4]]
    right = int(said[0] == 0) + int(said[1] == 1)
    assert (f"the model it resumed predicted {right} of the 2 labels given since right"
            in capsys.readouterr().out)
    newest = sorted((tiny["art"] / "runs").iterdir())[-1]
    assert len((newest / "history.csv").read_text().strip().splitlines()) == 4
    assert (current / "predictions.npz").read_bytes() == before
    assert not (current / "checkpoint.1").exists()


def test_user_errors_are_one_sentence(tiny, capsys):
    args = ["--config", str(tiny["cfg"]), "--dataset", f"npz:{tiny['npz']}", "--labels", str(tiny["labels"])]
    assert main(["rank", *args]) == 2
    err = capsys.readouterr().err
    assert "ssvae train" in err and "Traceback" not in err
    assert main(["train", *args, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "no trained model for data set 'tiny'" in err and "artifacts/workspace/tiny" in err


def test_cli_help_does_not_import_jax():
    code = ("import sys; from ssvae.cli import build_parser; build_parser(); "
            "import ssvae.cli.train, ssvae.cli.rank; assert 'jax' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
