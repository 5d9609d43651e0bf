"""The loop with `train.augment_intensity: 0.3` against the default, per data set and arm.

    PYTHONPATH=. python docs/sweeps/intensity_loop_2026-12-07/compare.py

Reads every `*-seed*/<data set>/results.csv` here (the option's runs), the default's rows in
docs/results (the same plan, seeds and first model, run on other days and machines) and, where
present, `default_rerun/*-seed*/<data set>/results.csv` (the default rerun beside the option,
same code and machine). Prints test accuracy % at each label count, mean ± sample sd over the
seeds each holds, and the option's change against each default: paired per seed, with the
standard error of the paired differences (their sample sd / sqrt(n)).
"""
from __future__ import annotations

import statistics
from pathlib import Path

from ssvae.simulate import read_rows

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parents[1] / "results"
DEFAULT_ROWS = {"fashion-mnist": "fashion-mnist-both-10seeds", "mnist": "mnist-both",
                "digits": "digits-both", "glyphs": "glyphs-both"}


def curves(paths) -> dict[str, dict[int, dict[int, float]]]:
    """arm -> seed -> labels -> test accuracy %."""
    out: dict[str, dict[int, dict[int, float]]] = {}
    for path in paths:
        for row in read_rows(path):
            out.setdefault(row["strategy"], {}).setdefault(row["seed"], {})[row["labels"]] = (
                100 * row["accuracy"])
    return out


def mean_sd(values: list[float]) -> str:
    sd = f" ± {statistics.stdev(values):.1f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.1f}{sd}"


def change(new: dict, ref: dict, n: int) -> str:
    seeds = [s for s in new if n in new[s] and n in ref.get(s, {})]
    d = [new[s][n] - ref[s][n] for s in seeds]
    if len(d) < 2:
        return f"{d[0]:+.1f}" if d else "–"
    return f"{statistics.mean(d):+.1f} ({statistics.stdev(d) / len(d) ** 0.5:.1f})"


def main() -> None:
    for dataset, row in DEFAULT_ROWS.items():
        new = curves(sorted(HERE.glob(f"*-seed*/{dataset}/results.csv")))
        if not new:
            continue
        defaults = {f"the default (docs/results/{row})": curves([RESULTS / row / "results.csv"]),
                    "the default rerun": curves(sorted(
                        HERE.glob(f"default_rerun/*-seed*/{dataset}/results.csv")))}
        print(f"\n## {dataset}")
        for arm, runs in new.items():
            counts = sorted({n for c in runs.values() for n in c})
            print(f"\n{arm}, intensity's seeds {sorted(runs)}")
            print("| run | seeds | " + " | ".join(map(str, counts)) + " |")
            print("|---|---|" + "---|" * len(counts))
            tables = {name: d[arm] for name, d in defaults.items() if d.get(arm)}
            for name, table in {**tables, "intensity 0.3": runs}.items():
                cells = [mean_sd([c[n] for c in table.values() if n in c]) for n in counts]
                print(f"| {name} | {len(table)} | " + " | ".join(cells) + " |")
            for name, table in tables.items():
                print(f"| change against {name}, paired (se) | | " + " | ".join(
                    change(runs, table, n) for n in counts) + " |")


if __name__ == "__main__":
    main()
