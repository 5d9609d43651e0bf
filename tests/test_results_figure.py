"""scripts/results_figure.py draws the README's accuracy-against-labels figure from merged
results folders: one panel per data set, the default, random and the plain baseline on the
default's labels, mean ± sample sd over the seeds."""
from pathlib import Path

import numpy as np
import pytest

from ssvae.simulate import COLUMNS, write_outputs
from script_loader import load_script


def results(folder: Path, seeds: int, arms=("auto", "random", "logreg (auto labels)", "margin")):
    rows = []
    for a, arm in enumerate(arms):
        for seed in range(seeds):
            for r, n in enumerate((10, 40, 70)):
                rows.append({"strategy": arm, "seed": seed, "round": r, "labels": n,
                             "accuracy": 0.1 * (r + 1) + 0.01 * seed + 0.001 * a,
                             "seconds": 1.0, "picked_accuracy": None})
    assert set(rows[0]) <= set(COLUMNS)
    write_outputs(rows, folder, "fake")
    return folder


def test_one_panel_per_data_set_with_the_three_arms_mean_and_sd(tmp_path):
    mod = load_script("results_figure")
    a = results(tmp_path / "a", seeds=3)
    b = results(tmp_path / "b", seeds=2, arms=("auto", "random"))  # no baseline there
    fig = mod.figure([("set A", a), ("set B", b)])
    titles = [ann.text for ann in fig.layout.annotations]
    assert titles == ["set A (3 seeds)", "set B (2 seeds)"]
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    # margin is not drawn; set B has no baseline; each arm's legend entry appears once
    assert [t.name for t in lines] == ["the default (auto)", "random, same model",
                                       "logistic regression on the default's labels",
                                       "the default (auto)", "random, same model"]
    assert [t.showlegend for t in lines] == [True, True, True, False, False]
    auto_a = lines[0]
    assert list(auto_a.x) == [10, 40, 70]
    np.testing.assert_allclose(auto_a.y, [0.11, 0.21, 0.31])  # seeds 0.00 / 0.01 / 0.02 above
    band = fig.data[list(fig.data).index(auto_a) - 1]  # the ± sd band drawn under its line
    assert band.fill == "toself"
    np.testing.assert_allclose(max(band.y) - 0.31, 0.01)  # the sample sd (ddof 1) of the seeds


def test_a_folder_without_results_is_refused_in_one_sentence(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        load_script("results_figure").main([f"X={tmp_path}", "--out", str(tmp_path / "f.png")])
    assert e.value.code == 2
    assert "is not TITLE=FOLDER with FOLDER/results.csv" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


@pytest.mark.browser
def test_renders_a_png_through_headless_chromium(tmp_path):
    out = tmp_path / "img" / "fig.png"
    assert load_script("results_figure").main([f"A={results(tmp_path / 'a', seeds=2)}", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1650, 630)  # 1 100 × 420 at scale 1.5, one row of panels
