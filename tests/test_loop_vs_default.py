"""scripts/loop_vs_default.py: an option's loop runs against the default's, unpaired."""
import statistics

from script_loader import load_script


def write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("strategy,seed,round,labels,accuracy,seconds,picked_accuracy\n" + "".join(
        f"{arm},{seed},{r},{n},{acc},1.0,\n" for arm, seed, r, n, acc in rows))


def test_every_run_counts_and_the_difference_has_the_unpaired_standard_error(tmp_path, monkeypatch, capsys):
    mod = load_script("loop_vs_default")
    docs = tmp_path / "docs"
    # the default: seed 0 in two files (two runs, not one), seed 1 once
    write(docs / "results/a.csv", [("auto", 0, 0, 10, 0.5), ("auto", 0, 1, 40, 0.70),
                                   ("auto", 1, 0, 10, 0.5), ("auto", 1, 1, 40, 0.74)])
    write(docs / "rerun/x-seed0/fashion-mnist/results.csv", [("auto", 0, 0, 10, 0.5), ("auto", 0, 1, 40, 0.72)])
    monkeypatch.setattr(mod, "DOCS", docs)
    monkeypatch.setattr(mod, "DEFAULT_ROWS", {"fashion-mnist": ["results/a.csv", "rerun/*-seed*/fashion-mnist/results.csv"]})
    sweep = tmp_path / "sweep"
    write(sweep / "opt-seed0/fashion-mnist/results.csv", [("auto", 0, 0, 10, 0.5), ("auto", 0, 1, 40, 0.76)])
    write(sweep / "opt-seed2/fashion-mnist/results.csv", [("auto", 2, 0, 10, 0.5), ("auto", 2, 1, 40, 0.80)])
    mod.main(sweep, "the option")
    out = capsys.readouterr().out
    lines = {line.split(" | ")[0].lstrip("| "): line for line in out.splitlines() if line.startswith("|")}
    assert "72.0 ± 2.0 (3)" in lines["the default"]
    assert "78.0 ± 2.8 (2)" in lines["the option"]
    se = (statistics.variance([76, 80]) / 2 + statistics.variance([70, 74, 72]) / 3) ** 0.5
    assert f"+6.0 ({se:.1f})" in lines["change, unpaired (se)"]
    # seeds 0 and 2 only: the default's two runs of seed 0
    assert "71.0 ± 1.4 (2)" in lines["the default, seeds [0, 2] only"]
