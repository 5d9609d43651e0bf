"""`ssvae compare`: several configurations on the same tiny data and labels, one report."""
import re

import numpy as np
import pytest

from model_fixtures import save_npz
from ssvae.cli import main
from ssvae.compare import ground_truth_labels, unique_names

TINY = """
model: {{latent_dim: 4, hidden: [32], classifier_hidden: [32]}}
train: {{epochs: 1, batch_size: 32, labeled_batch_size: 8, eval_batch_size: 64, mc_samples: 4,
        learning_rate: {lr}}}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    save_npz(root / "tiny.npz", 120, 8)
    save_npz(root / "notruth.npz", 120, 8, parts=("x",))
    # same network, another learning rate: the test compiles one train step only
    (root / "plain.yaml").write_text(TINY.format(lr=0.001))
    (root / "fast.yaml").write_text(TINY.format(lr=0.01))
    (root / "labels.csv").write_text("Serial,label\n0,a\n1,b\n2,c\n3,a\n")
    return root


@pytest.fixture()
def artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("SSVAE_DATA", str(tmp_path / "data"))
    return tmp_path / "artifacts"


def test_compare_writes_one_report(tiny, artifacts, capsys):
    rc = main(["compare", str(tiny / "plain.yaml"), str(tiny / "fast.yaml"),
               "--dataset", f"npz:{tiny / 'tiny.npz'}", "--labels", "6", "--seeds", "2"])
    assert rc == 0
    (out,) = list((artifacts / "comparisons").iterdir())
    assert sorted(p.name for p in out.iterdir()) == ["REPORT.md", "losses.html", "maps.html"]
    report = (out / "REPORT.md").read_text()
    assert report in capsys.readouterr().out
    assert "6 labels (6 drawn from the ground truth" in report and "seeds 0, 1" in report
    header = next(l for l in report.splitlines() if l.startswith("| config |"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    assert cols[:4] == ["config", "seeds", "test accuracy", "s / epoch"]
    assert {"final loss", "final recon", "final kl_z", "final val_loss"} <= set(cols)
    rows = {l.split("|")[1].strip(): [c.strip() for c in l.strip("|").split("|")]
            for l in report.splitlines() if l.startswith("| plain |") or l.startswith("| fast |")}
    assert set(rows) == {"plain", "fast"}
    for cells in rows.values():
        assert len(cells) == len(cols) and cells[1] == "2"
        assert re.fullmatch(r"\d+\.\d ± \d+\.\d %", cells[2])  # mean ± spread over the seeds
        assert all("±" in c for c in cells[3:])
    losses = (out / "losses.html").read_text()
    assert '<script src="http' not in losses  # plotly.js embedded
    for name in ("plain (seed 0)", "plain (seed 1)", "fast (seed 0)", "fast (seed 1)"):
        assert name in losses
    maps = (out / "maps.html").read_text()
    assert '"text":"plain"' in maps and '"text":"fast"' in maps  # one panel per configuration


def test_labels_from_a_csv_file(tiny, artifacts, capsys):
    rc = main(["compare", str(tiny / "plain.yaml"), "--dataset", f"npz:{tiny / 'tiny.npz'}",
               "--labels", str(tiny / "labels.csv"), "--seeds", "1"])
    assert rc == 0
    report = next((artifacts / "comparisons").iterdir()) / "REPORT.md"
    text = report.read_text()
    assert f"4 labels (from {tiny / 'labels.csv'})" in text
    row = next(l for l in text.splitlines() if l.startswith("| plain |"))
    assert "±" not in row  # one seed: no spread


def test_ground_truth_labels_spread_over_classes():
    truth = np.array([0] * 10 + [1] * 3 + [2] * 10)
    got = ground_truth_labels(truth, 12, 3, 0)
    assert len(got) == 12 and all(truth[s] == c for s, c in got.items())
    # round robin over the classes: class 1 runs out after 3, the others share the rest
    assert np.bincount(list(got.values())).tolist() == [5, 3, 4]
    assert ground_truth_labels(truth, 12, 3, 0) == got


def test_unique_names():
    assert unique_names(["configs/default.yaml", "mixture.yaml"]) == ["default", "mixture"]
    assert unique_names(["a/x.yaml", "b/x.yaml"]) == ["x (1)", "x (2)"]


@pytest.mark.parametrize("args, message", [
    (["{d}/plain.yaml", "{d}/nope.yaml"], "nope.yaml: config file not found."),
    (["{d}/plain.yaml", "--labels", "{d}/none.csv"], "none.csv: labels file not found"),
    (["{d}/plain.yaml", "--labels", "0"], "--labels must be a labels.csv or a number of labels between 1 and the pool size (120); got 0."),
    (["{d}/plain.yaml", "--seeds", "0"], "--seeds must be at least 1 (got 0)."),
    (["{d}/plain.yaml", "--epochs", "0"], "--epochs must be at least 1 (got 0)."),
    (["{d}/plain.yaml", "--dataset", "npz:{d}/notruth.npz"], "has no labels.csv with labels and no ground truth"),
    (["{d}/plain.yaml", "--dataset", "npz:{d}/notruth.npz", "--labels", "5"], "has none; give a labels.csv"),
])
def test_bad_input_is_one_sentence(tiny, artifacts, capsys, args, message):
    argv = ["compare", *[a.format(d=tiny) for a in args]]
    if "--dataset" not in argv:
        argv += ["--dataset", f"npz:{tiny / 'tiny.npz'}"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (artifacts / "comparisons").exists()
