"""`ssvae simulate`: the active-learning loop on a tiny 8×8 data set (a few rounds, one epoch)."""
import csv
from dataclasses import replace

import numpy as np
import pytest

import ssvae.simulate as sim
from model_fixtures import make_images, save_npz
from ssvae.cli import main
from ssvae.config import load_config
from ssvae.data import load_dataset
from ssvae.schedule import restart_epochs
from ssvae.simulate import SimulationSettings, initial_labels, run_simulation, summarize

TINY_YAML = """
model: {latent_dim: 4, hidden: [32], classifier_hidden: [32]}
train: {epochs: 1, batch_size: 32, labeled_batch_size: 8, eval_batch_size: 64, mc_samples: 4}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    save_npz(root / "tiny.npz", 120, 8)
    save_npz(root / "notest.npz", 120, 8, parts=("x", "y"))
    save_npz(root / "notruth.npz", 120, 8, parts=("x",))
    (root / "tiny.yaml").write_text(TINY_YAML)
    cfg = load_config(root / "tiny.yaml")
    return {"root": root, "spec": f"npz:{root / 'tiny.npz'}", "yaml": root / "tiny.yaml",
            "cfg": cfg, "ds": load_dataset(f"npz:{root / 'tiny.npz'}")}


@pytest.fixture()
def artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    return tmp_path / "artifacts"


SMALL = dict(initial=3, step=3, budget=12, epochs_per_round=1, first_epochs=1)


def test_cli_writes_csv_plot_and_report(tiny, artifacts, capsys):
    rc = main(["simulate", "--config", str(tiny["yaml"]), "--dataset", tiny["spec"],
               "--strategies", "margin,diverse,random", "--initial", "3", "--step", "3",
               "--budget", "12", "--epochs-per-round", "1", "--first-epochs", "1", "--seeds", "2"])
    assert rc == 0
    (out,) = list((artifacts / "simulations").iterdir())
    assert sorted(p.name for p in out.iterdir()) == ["REPORT.md", "accuracy.html", "picks.csv",
                                                     "results.csv"]
    with open(out / "results.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert {"strategy", "seed", "labels", "accuracy", "seconds"} <= set(reader.fieldnames)
        rows = list(reader)
    # 3 strategies × 2 seeds × 4 rounds (3, 6, 9, 12 labels)
    assert len(rows) == 24
    for strategy in ("margin", "diverse", "random"):
        for seed in ("0", "1"):
            mine = [r for r in rows if r["strategy"] == strategy and r["seed"] == seed]
            assert [int(r["labels"]) for r in mine] == [3, 6, 9, 12]
            assert all(0.0 <= float(r["accuracy"]) <= 1.0 for r in mine)
            # the picking model's accuracy on its picks: from the second round on
            assert mine[0]["picked_accuracy"] == ""
            assert all(float(r["picked_accuracy"]) in (0, 1 / 3, 2 / 3, 1) for r in mine[1:])
            secs = [float(r["seconds"]) for r in mine]
            assert secs == sorted(secs) and secs[0] > 0
    html = (out / "accuracy.html").read_text()
    assert "plotly" in html and '<script src="http' not in html  # plotly.js embedded: works offline
    for strategy in ("margin", "diverse", "random"):
        assert f'"name":"{strategy}"' in html
    report = (out / "REPORT.md").read_text()
    # the label counts the run visited: the first, every 50 (none here) and the last
    assert "| strategy | seeds | acc @ 3 | acc @ 12 | labels to 80 % | labels to 90 % |" in report
    assert "sample standard deviation" in report
    for fact in ("data set `tiny` from", "120 pool images 8×8×1", "test split 30 images",
                 "machine: ", "CPUs", "wall time"):
        assert fact in report
    from importlib.metadata import version  # what a seed's rows are reproducible with
    assert f"jax {version('jax')}, jaxlib {version('jaxlib')}" in report
    assert "| margin | 2 |" in report and "| random | 2 |" in report
    assert "[picks.csv](picks.csv)" in report
    assert report in capsys.readouterr().out
    # picks.csv rebuilds every round's labeled set: 3 new images a round, none twice, true labels
    with open(out / "picks.csv", newline="") as fh:
        picks = list(csv.DictReader(fh))
    truth = load_dataset(tiny["spec"]).truth
    for strategy in ("margin", "diverse", "random"):
        for seed in ("0", "1"):
            mine = [p for p in picks if p["strategy"] == strategy and p["seed"] == seed]
            assert [sum(p["round"] == str(r) for p in mine) for r in range(4)] == [3, 3, 3, 3]
            assert len({p["index"] for p in mine}) == 12
            assert all(int(p["label"]) == truth[int(p["index"])] for p in mine)


def test_loop_never_queries_a_labeled_image(tiny, monkeypatch):
    calls = []
    real_rank = sim.rank

    def spy(scores, strategy, k, labeled, **kw):
        picks = real_rank(scores, strategy, k, labeled, **kw)
        calls.append((strategy, kw.get("diverse"), set(labeled), picks.tolist()))
        return picks

    monkeypatch.setattr(sim, "rank", spy)
    settings = SimulationSettings(strategies=("entropy", "bald", "diverse", "random"), seeds=(0,), **SMALL)
    rows = run_simulation(tiny["cfg"], tiny["ds"], settings)
    assert len(calls) == 4 * 3  # 3 rounds after the start, per strategy
    truth = tiny["ds"].truth
    start = initial_labels(truth, 3, 3, 0)
    for i, (strategy, diverse, labeled, picks) in enumerate(calls):
        r = i % 3
        assert len(labeled) == 3 + 3 * r and set(start) <= labeled
        assert len(picks) == 3 and len(set(picks)) == 3
        assert not set(picks) & labeled
    # within one strategy's loop every image is asked for at most once
    for j in range(4):
        asked = [s for c in calls[3 * j:3 * j + 3] for s in c[3]]
        assert len(asked) == len(set(asked)) == 9
    assert [c[0] for c in calls[::3]] == ["entropy", "bald", "entropy", "random"]
    assert [c[1] for c in calls[::3]] == [False, False, True, False]
    assert [r["labels"] for r in rows if r["strategy"] == "bald"] == [3, 6, 9, 12]


def test_same_seed_gives_the_same_results(tiny):
    settings = SimulationSettings(strategies=("margin", "random"), seeds=(1,), **SMALL)
    a = run_simulation(tiny["cfg"], tiny["ds"], settings)
    b = run_simulation(tiny["cfg"], tiny["ds"], settings)
    key = lambda rows: [(r["strategy"], r["seed"], r["labels"], r["accuracy"]) for r in rows]
    assert key(a) == key(b)
    c = run_simulation(tiny["cfg"], tiny["ds"], SimulationSettings(strategies=("random",), seeds=(2,), **SMALL))
    curve = lambda rows: [(r["labels"], r["accuracy"]) for r in rows]
    assert curve(c) != curve([r for r in a if r["strategy"] == "random"])  # the seed matters


def test_initial_labels_cover_every_class_first():
    truth = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 0])
    for seed in range(5):
        got = initial_labels(truth, 5, 3, seed)
        assert len(got) == 5 and {0, 1, 2} <= set(got.values())
        assert all(truth[s] == c for s, c in got.items())
    assert len(initial_labels(truth, 2, 3, 0)) == 2  # fewer than the classes: at random


def test_summary_milestones_and_labels_to_reach():
    rows = [{"strategy": "s", "seed": seed, "round": r, "labels": n, "accuracy": acc, "seconds": 1.0}
            for seed, accs in ((0, (0.5, 0.79, 0.85, 0.92, 0.93)), (1, (0.5, 0.83, 0.85, 0.90, 0.95)))
            for r, (n, acc) in enumerate(zip((25, 50, 100, 200, 230), accs))]
    s = summarize(rows)["s"]
    assert s["at"][50] == pytest.approx(0.81) and s["at"][200] == pytest.approx(0.91)
    assert sorted(s["at"]) == [25, 50, 100, 200, 230]  # first, every 50, last
    # the sample standard deviation (ddof 1) of 0.79 and 0.83
    assert s["std"][50] == pytest.approx(np.std([0.79, 0.83], ddof=1)) == pytest.approx(0.0283, abs=1e-4)
    assert s["reach"] == {0.8: 50, 0.9: 200}
    report = sim.render_report(summarize(rows), "t")
    assert ("| s | 2 | 50.0 % ± 0.0 | 81.0 % ± 2.8 | 85.0 % ± 0.0 | 91.0 % ± 1.4 | 94.0 % ± 1.4 "
            "| 50 | 200 |") in report
    assert "mean ± sample standard deviation (ddof 1) over 2 seeds" in report


@pytest.mark.parametrize("extra, message", [
    (["--strategies", "margin,nope"], "query strategy 'nope' is not one of: auto, typiclust, margin"),
    (["--baseline", "bald"], "the baseline is asked for the labels of 'bald', which is not one of"),
    (["--strategies", "margin,margin"], "strategy 'margin' is given more than once"),
    (["--budget", "2"], "--budget must lie between --initial (3) and the pool size (120); got 2."),
    (["--budget", "500"], "--budget must lie between --initial (3) and the pool size (120); got 500."),
    (["--step", "0"], "--step must be at least 1 (got 0)."),
    (["--seeds", "0"], "--seeds must be at least 1 (got 0)."),
    (["--config", "/no/such/config.yaml"], "config.yaml: config file not found."),
])
def test_bad_input_is_one_sentence(tiny, artifacts, capsys, extra, message):
    args = ["simulate", "--config", str(tiny["yaml"]), "--dataset", tiny["spec"], "--initial", "3", *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (artifacts / "simulations").exists()


@pytest.mark.parametrize("name, lacks", [("notest", "a test split"), ("notruth", "ground truth")])
def test_data_set_without_truth_or_test_split(tiny, artifacts, capsys, name, lacks):
    spec = f"npz:{tiny['root'] / name}.npz"
    assert main(["simulate", "--config", str(tiny["yaml"]), "--dataset", spec]) == 2
    err = capsys.readouterr().err
    assert "needs ground truth and a held-out test split" in err and f"lacks {lacks}" in err


def test_accuracy_recorded_is_the_trainers_test_accuracy(tiny, tmp_path):
    """The rows carry predictions.meta['test_accuracy']: it must be the model's accuracy on the
    test split now, also for a trainer resumed from the shared initial checkpoint."""
    from ssvae.train import Trainer

    ds = tiny["ds"]
    tr = Trainer(tiny["cfg"], ds)
    tr.train_epochs(1, initial_labels(ds.truth, 3, 3, 0))
    direct = float((tr.test_predictions() == ds.test_truth).mean())
    assert tr.predict().meta["test_accuracy"] == pytest.approx(direct) == tr.test_accuracy()
    tr.save_checkpoint(tmp_path / "ck")
    again = Trainer.from_checkpoint(tmp_path / "ck", ds)
    assert again.predict().meta["test_accuracy"] == pytest.approx(direct)
    again.train_epochs(1, initial_labels(ds.truth, 6, 3, 0))
    assert again.predict().meta["test_accuracy"] == pytest.approx(again.test_accuracy())


def test_class_folder_images_with_a_held_out_test_split(tiny, tmp_path, artifacts, capsys):
    """Class-folder images carry ground truth but no test split: --test-fraction holds one out."""
    from PIL import Image

    x, y = make_images(60, 8, 8, 1, 3, 5)
    for i, (img, c) in enumerate(zip(x, y)):
        folder = tmp_path / "imgs" / "abc"[c]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img[..., 0]).save(folder / f"{i:03d}.png")
    yaml = tmp_path / "folder.yaml"
    yaml.write_text(TINY_YAML + "data: {image_size: [8, 8]}\n")
    base = ["simulate", "--config", str(yaml), "--dataset", f"folder:{tmp_path / 'imgs'}",
            "--strategies", "margin", "--initial", "3", "--step", "3", "--budget", "9",
            "--epochs-per-round", "1", "--first-epochs", "1", "--seeds", "1"]
    assert main(base) == 2
    assert "lacks a test split (--test-fraction holds out part of the pool)" in capsys.readouterr().err
    assert main([*base, "--test-fraction", "1.5"]) == 2
    assert "--test-fraction must lie strictly between 0 and 1 (got 1.5)" in capsys.readouterr().err
    assert main([*base, "--test-fraction", "0.25"]) == 0
    (out,) = list((artifacts / "simulations").iterdir())
    with open(out / "results.csv", newline="") as fh:
        assert [int(r["labels"]) for r in csv.DictReader(fh)] == [3, 6, 9]


def test_hold_out_test_is_per_class_and_disjoint(tiny):
    ds = tiny["ds"]
    from ssvae.data import Dataset
    from ssvae.simulate import hold_out_test

    bare = Dataset(name="b", images=ds.images, class_names=ds.class_names, source="t", truth=ds.truth)
    held = hold_out_test(bare, 0.25, seed=0)
    assert held.size + len(held.test_truth) == bare.size == 120
    assert np.bincount(held.test_truth).tolist() == [10, 10, 10]
    # every image lands in exactly one of the two parts
    pool = {img.tobytes() for img in held.images}
    test = {img.tobytes() for img in held.test_images}
    assert pool | test == {img.tobytes() for img in bare.images} and not pool & test
    assert hold_out_test(ds, 0.25) is ds  # its own test split is kept


def test_baseline_rows_use_exactly_the_arms_labels(tiny, monkeypatch):
    """The plain baseline is fitted at every round on the labels the arm holds then."""
    seen = []
    real = sim.logreg_accuracy

    def spy(images, labels, *args, **kw):
        seen.append(dict(labels))
        return real(images, labels, *args, **kw)

    monkeypatch.setattr(sim, "logreg_accuracy", spy)
    asked = {}
    real_rank = sim.rank

    def rank_spy(scores, strategy, k, labeled, **kw):
        picks = real_rank(scores, strategy, k, labeled, **kw)
        asked.setdefault(strategy, []).extend(picks.tolist())
        return picks

    monkeypatch.setattr(sim, "rank", rank_spy)
    settings = SimulationSettings(strategies=("auto", "random"), seeds=(0,), baseline_for=("random",),
                                  **SMALL)
    rows = run_simulation(tiny["cfg"], tiny["ds"], settings)
    base = [r for r in rows if r["strategy"] == sim.baseline_name("random")]
    assert [r["labels"] for r in base] == [3, 6, 9, 12] and len(seen) == 4
    start = initial_labels(tiny["ds"].truth, 3, 3, 0)
    assert set(seen[0]) == set(start)
    assert set(seen[-1]) == set(start) | set(asked["random"])
    assert all(seen[-1][s] == tiny["ds"].truth[s] for s in seen[-1])
    assert all(0 <= r["accuracy"] <= 1 for r in base)
    assert not [r for r in rows if r["strategy"] == sim.baseline_name("auto")]


def test_progress_knows_its_total_from_the_start(tiny):
    """Progress counts training epochs, the initial model's included: the total is known at
    the first call (so the bar has an ETA from the start), and it ends at that total."""
    calls = []
    settings = SimulationSettings(strategies=("margin", "random"), seeds=(0, 1), **SMALL)
    cfg = tiny["cfg"].with_overrides({"train.progress_every": 1})  # a call after every step
    run_simulation(cfg, tiny["ds"], settings, progress=lambda d, t, s: calls.append((d, t)))
    total = 2 * (1 + 2 * 3 * 1)
    assert settings.total_epochs() == total
    assert {t for _, t in calls} == {total}
    assert calls[0][0] == 0 and calls[-1][0] == total
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert any(0 < d < 1 for d in done)  # inside the first model's training, not only after it


def test_with_a_restart_growth_rounds_restart_where_the_labels_doubled(tiny):
    """`train.restart_growth: 2` from 3 labels, 3 per round: fresh weights at 6 and 12 labels,
    each trained a restart's epochs; the progress total counts them."""
    settings = SimulationSettings(strategies=("random",), seeds=(0,), initial=3, step=3,
                                  budget=12, epochs_per_round=1, first_epochs=2)
    cfg = tiny["cfg"].with_overrides({"train.restart_growth": 2.0, "train.progress_every": 1})
    assert settings.restarts(cfg) == [True, False, True]   # 6, 9, 12 labels
    # unset, a restart trains the first model's steps without the epoch cap
    unset = replace(settings, first_epochs=None).with_first_epochs(cfg, tiny["ds"].size)
    assert unset.restart_epochs == restart_epochs(tiny["ds"].size, cfg)
    assert settings.round_epochs(cfg) == [2, 1, 2] and settings.total_epochs(cfg) == 2 + 5
    assert settings.total_epochs() == 2 + 3                # no config: always warm
    calls = []
    rows = run_simulation(cfg, tiny["ds"], settings, progress=lambda d, t, s: calls.append((d, t)))
    assert [r["labels"] for r in rows] == [3, 6, 9, 12]
    assert calls[-1] == (7, 7)
    notes = sim.settings_notes(settings, cfg, "tiny")
    assert any("restart from fresh weights, trained 2 epochs, at 6, 12 labels" in n for n in notes)
