"""A loop sweep's runs against the default's, per data set and arm, unpaired.

    PYTHONPATH=. python scripts/loop_vs_default.py SWEEP_FOLDER "NAME OF THE OPTION"

Reads every `*-seed*/<data set>/results.csv` in SWEEP_FOLDER (the option's runs, as
`scripts/strategy_sweep.py --out SWEEP_FOLDER/<name>-seedS` writes them), the default's rows in
docs/results (the same plan and seeds, run on other days and machines) and, for
Fashion-MNIST, the default's rerun to 100 labels in docs/sweeps/intensity_loop_2026-12-07.
A seed fixes only the first model and the first 10 labels (docs/MODEL.md, "Intensity
jitter in the loop"), so the runs are compared unpaired: the difference of the means, with
its standard error sqrt(s1²/n1 + s2²/n2). Prints test accuracy %, mean ± sample sd over the
runs (their number in brackets), against all the default's runs and against those of the
same seeds.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

from ssvae.simulate import read_rows

DOCS = Path(__file__).resolve().parents[1] / "docs"
DEFAULT_ROWS = {"fashion-mnist": ["results/fashion-mnist-both-10seeds/results.csv",
                                  "sweeps/intensity_loop_2026-12-07/default_rerun/*-seed*/fashion-mnist/results.csv"],
                "mnist": ["results/mnist-both/results.csv"],
                "digits": ["results/digits-both/results.csv"],
                "glyphs": ["results/glyphs-both/results.csv"]}


def runs(paths) -> dict[str, dict[tuple[int, int], dict[int, float]]]:
    """arm -> (file index, seed) -> {labels: test accuracy %}, one entry per run."""
    out: dict[str, dict[tuple[int, int], dict[int, float]]] = {}
    for i, path in enumerate(paths):
        for row in read_rows(path):
            out.setdefault(row["strategy"], {}).setdefault((i, row["seed"]), {})[row["labels"]] = (
                100 * row["accuracy"])
    return out


def at(curves: dict[tuple[int, int], dict[int, float]], n: int) -> list[float]:
    return [c[n] for c in curves.values() if n in c]


def mean_sd(values: list[float]) -> str:
    if not values:
        return "–"
    sd = f" ± {statistics.stdev(values):.1f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.1f}{sd} ({len(values)})"


def change(new: list[float], ref: list[float]) -> str:
    if len(new) < 2 or len(ref) < 2:
        return "–"
    d = statistics.mean(new) - statistics.mean(ref)
    se = (statistics.variance(new) / len(new) + statistics.variance(ref) / len(ref)) ** 0.5
    return f"{d:+.1f} ({se:.1f})"


def main(folder: Path, name: str, default_name: str = "the default") -> None:
    for dataset, patterns in DEFAULT_ROWS.items():
        new = runs(sorted(folder.glob(f"*-seed*/{dataset}/results.csv")))
        if not new:
            continue
        default = runs([p for pattern in patterns for p in sorted(DOCS.glob(pattern))])
        print(f"\n## {dataset}")
        for arm, curves in new.items():
            counts = sorted({n for c in curves.values() for n in c})
            seeds = {seed for _, seed in curves}
            same = {key: c for key, c in default.get(arm, {}).items() if key[1] in seeds}
            print(f"\n{arm} (runs in brackets)")
            print("| run | " + " | ".join(map(str, counts)) + " |")
            print("|---|" + "---|" * len(counts))
            print(f"| {default_name} | " + " | ".join(
                mean_sd(at(default.get(arm, {}), n)) for n in counts) + " |")
            print(f"| {name} | " + " | ".join(mean_sd(at(curves, n)) for n in counts) + " |")
            print("| change, unpaired (se) | " + " | ".join(
                change(at(curves, n), at(default.get(arm, {}), n)) for n in counts) + " |")
            print(f"| the default, seeds {sorted(seeds)} only | " + " | ".join(
                mean_sd(at(same, n)) for n in counts) + " |")
            print("| change against those, unpaired (se) | " + " | ".join(
                change(at(curves, n), at(same, n)) for n in counts) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2])
