"""The pair's loops against the single model's on the same seeds, paired per seed.

    PYTHONPATH=. python docs/sweeps/pair_loop_2026-12-07/compare.py

Reads `queue_from_first/auto-seed*/results.csv` (the pair, queue from the first member) and the
default's 10-seed results (`docs/results/fashion-mnist-both-10seeds/results.csv`); prints test
accuracy % per round for the seeds both hold, the mean of each, the paired change, its standard
error (sample sd of the per-seed differences / sqrt(n)) and the per-seed changes at 100 and 200.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from ssvae.simulate import read_rows

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SINGLE = ROOT / "docs/results/fashion-mnist-both-10seeds/results.csv"


def auto_rows(path: Path) -> dict[int, dict[int, float]]:
    out: dict[int, dict[int, float]] = {}
    for row in read_rows(path):
        if row["strategy"] == "auto":
            out.setdefault(row["seed"], {})[row["labels"]] = 100 * row["accuracy"]
    return out


def main() -> None:
    single = auto_rows(SINGLE)
    pair: dict[int, dict[int, float]] = {}
    for path in sorted(HERE.glob("queue_from_first/auto-seed*/results.csv")):
        pair.update(auto_rows(path))
    seeds = sorted(s for s in pair if s in single and 200 in pair[s])
    counts = sorted(pair[seeds[0]])
    print(f"seeds {seeds}")
    print("| labels | " + " | ".join(map(str, counts)) + " |")
    print("|---|" + "---|" * len(counts))
    for name, runs in (("one model", single), ("pair", pair)):
        cells = [statistics.mean(runs[s][n] for s in seeds) for n in counts]
        print(f"| {name} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    diffs = {n: [pair[s][n] - single[s][n] for s in seeds] for n in counts}
    se = {n: statistics.stdev(d) / len(d) ** 0.5 for n, d in diffs.items()}
    print("| change (se) | " + " | ".join(
        f"{statistics.mean(diffs[n]):+.1f} ({se[n]:.1f})" for n in counts) + " |")
    for n in (100, 200):
        print(f"{n}: pair sd {statistics.stdev(pair[s][n] for s in seeds):.1f}, "
              f"one model sd {statistics.stdev(single[s][n] for s in seeds):.1f}; per seed "
              + " / ".join(f"{d:+.1f}" for d in diffs[n]))


if __name__ == "__main__":
    main()
