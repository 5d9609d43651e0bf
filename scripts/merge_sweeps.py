"""Merge the results.csv of sweeps that ran different seeds (or arms) of the same data set
and plan into one folder, with REPORT.md and accuracy.html redrawn over all of them; the
report names its sources. Refuses rows that two sources both hold (same arm, seed, round).

    python scripts/merge_sweeps.py --out docs/results/glyphs-restart2 \\
        docs/sweeps/restart200_2026-11-26/glyphs-seed0 docs/sweeps/restart200_2026-11-26/glyphs-seed1/glyphs
    python scripts/merge_sweeps.py --out OUT new-run old-run::random   # only old-run's random arm
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ssvae.simulate import read_rows, write_outputs


def parse_source(text: str) -> tuple[Path, set[str] | None]:
    """``FOLDER`` or ``FOLDER::ARM,ARM`` (only those arms of it)."""
    folder, _, arms = text.partition("::")
    return Path(folder), (set(arms.split(",")) if arms else None)


def merge(sources: list[str]) -> list[dict]:
    rows, seen = [], {}
    for text in sources:
        src, arms = parse_source(text)
        for row in read_rows(src / "results.csv"):
            if arms is not None and row["strategy"] not in arms:
                continue
            key = (row["strategy"], row["seed"], row["round"])
            if key in seen:
                raise SystemExit(f"{src} and {seen[key]} both hold {key[0]}, seed {key[1]}, "
                                 f"round {key[2]}.")
            seen[key] = src
            rows.append(row)
    return sorted(rows, key=lambda r: (r["strategy"], r["seed"], r["round"]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+",
                   help="folders holding a results.csv; FOLDER::ARM,ARM takes only those arms")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--title", default=None)
    args = p.parse_args()
    rows = merge(args.sources)
    notes = ["merged by `scripts/merge_sweeps.py` from " + ", ".join(f"`{s}`" for s in args.sources)
             + " (each source's REPORT.md has its settings, machine and wall time)"]
    title = args.title or f"Merged: {args.out.name}"
    paths = write_outputs(rows, args.out, title, notes)
    print(f"wrote {paths['report']}")


if __name__ == "__main__":
    main()
