"""`ssvae evaluate`: the evaluation matrix on two tiny data sets (one a class folder)."""
import csv

import pytest
from PIL import Image

from model_fixtures import save_npz
from ssvae.cli import main
from ssvae.evaluate import folder_key, write_matrix_readme

TINY_YAML = """
model: {latent_dim: 4, hidden: [32], classifier_hidden: [32]}
train: {epochs: 1, batch_size: 32, labeled_batch_size: 8, eval_batch_size: 64, mc_samples: 4}
data: {image_size: [8, 8]}
"""


@pytest.fixture()
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("SSVAE_DATA", str(tmp_path / "data"))
    x, y = save_npz(tmp_path / "tiny.npz", 90, 8)
    for i, (img, c) in enumerate(zip(x, y)):
        folder = tmp_path / "imgs" / "abc"[c]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img[..., 0]).save(folder / f"{i:03d}.png")
    (tmp_path / "tiny.yaml").write_text(TINY_YAML)
    return tmp_path


def test_matrix_over_two_data_sets(tiny, capsys):
    specs = [f"npz:{tiny / 'tiny.npz'}", f"folder:{tiny / 'imgs'}"]
    out = tiny / "results"
    rc = main(["evaluate", "--config", str(tiny / "tiny.yaml"), "--datasets", ",".join(specs),
               "--seeds", "2", "--initial", "3", "--step", "3", "--budget", "9",
               "--epochs-per-round", "1", "--first-epochs", "1", "--out", str(out)])
    assert rc == 0
    for spec in specs:
        folder = out / folder_key(spec)
        assert sorted(p.name for p in folder.iterdir()) == ["REPORT.md", "accuracy.html",
                                                            "picks.csv", "results.csv"]
        with open(folder / "results.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        arms = {r["strategy"] for r in rows}
        assert arms == {"auto", "margin", "random", "logreg (auto labels)", "logreg (random labels)"}
        for arm in arms:
            for seed in ("0", "1"):
                assert [int(r["labels"]) for r in rows
                        if r["strategy"] == arm and r["seed"] == seed] == [3, 6, 9]
        report = (folder / "REPORT.md").read_text()
        assert "sample standard deviation" in report and "machine: " in report
    # the folder has no test split of its own: 20 % of each class held out, said in the report
    report = (out / folder_key(specs[1]) / "REPORT.md").read_text()
    assert "18 images held out as a test split (0.2, seed 0)" in report
    readme = (out / "README.md").read_text()
    assert readme in capsys.readouterr().out
    for spec in specs:
        assert f"| {folder_key(spec)} | auto | 2 | " in readme
        assert f"| {folder_key(spec)} | logreg (random labels) | 2 | " in readme


def test_readme_of_an_empty_folder_says_so(tmp_path):
    assert "(no results yet)" in write_matrix_readme(tmp_path).read_text()


@pytest.mark.parametrize("extra, message", [
    (["--datasets", "cifar"], "unknown data set 'cifar'"),
    (["--seeds", "0"], "--seeds must be at least 1 (got 0)."),
    (["--budget", "5000"], "--budget must lie between --initial"),
])
def test_bad_input_is_one_sentence(tiny, capsys, extra, message):
    args = ["evaluate", "--config", str(tiny / "tiny.yaml"), "--datasets", f"npz:{tiny / 'tiny.npz'}",
            "--out", str(tiny / "results"), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tiny / "results").exists()


def test_readme_only_rewrites_the_matrix_from_the_results(tmp_path, capsys):
    folder = tmp_path / "res" / "mnist"
    folder.mkdir(parents=True)
    rows = ["strategy,seed,round,labels,accuracy,seconds"]
    for arm in ("auto", "margin", "random", "logreg (auto labels)", "logreg (random labels)"):
        for seed, acc in ((0, 0.5), (1, 0.7)):
            rows += [f"{arm},{seed},0,10,{acc},1.0", f"{arm},{seed},1,100,{acc + 0.2},2.0"]
    (folder / "results.csv").write_text("\n".join(rows) + "\n")
    (folder / "REPORT.md").write_text("# Active learning on mnist, with a rule\n\n- notes\n")
    other = tmp_path / "res" / "simulation"  # a plain simulation: no baseline, not in the matrix
    other.mkdir()
    (other / "results.csv").write_text("strategy,seed,round,labels,accuracy,seconds\nmargin,0,0,10,0.5,1\n")
    assert main(["evaluate", "--readme-only", "--out", str(tmp_path / "res")]) == 0
    readme = (tmp_path / "res" / "README.md").read_text()
    assert "| mnist | auto | 2 | 60.0 ± 14.1 (10) | 80.0 ± 14.1 | — | 80.0 ± 14.1 (100) |" in readme
    assert "simulation" not in readme.split("Per data set")[1]
    assert "- [mnist](mnist/REPORT.md): Active learning on mnist, with a rule" in readme
    assert main(["evaluate", "--readme-only"]) == 2
    assert "--readme-only needs --out" in capsys.readouterr().err
