"""A query-strategy variant against the matrix's arms: ``auto`` (or any strategies) with the
diverse batch's candidates another fraction of the pool, or the restart rule on, on the data
sets of the matrix with the matrix's plan and seeds, so that its rows compare with
docs/results row for row (the same first model per seed).

    python scripts/strategy_sweep.py --diverse-fraction 0.05 --datasets fashion-mnist --out docs/sweeps/diverse_fraction_2026-11-26
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ssvae import ranking
from ssvae.cli.simulate import bar_progress, progress_bar
from ssvae.config import load_config
from ssvae.evaluate import DATASETS, evaluate_one, folder_key, load_for_evaluation, settings_for


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--diverse-fraction", type=float, default=ranking.DIVERSE_FRACTION)
    p.add_argument("--strategies", default="auto")
    p.add_argument("--growth", type=float, default=0.0)
    p.add_argument("--baselines", action="store_true",
                   help="also fit the plain baseline on each strategy's labels")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--out", required=True)
    args = p.parse_args()
    ranking.DIVERSE_FRACTION = args.diverse_fraction
    cfg = load_config("default").with_overrides({"train.restart_growth": args.growth}, "sweep")
    label = (f"default, diverse batch from max(10·k, {args.diverse_fraction:g} of the pool), "
             f"restart_growth {args.growth:g}")
    for spec in args.datasets.split(","):
        ds = load_for_evaluation(spec, cfg)
        settings = replace(settings_for(spec, tuple(range(args.seeds)), False),
                           strategies=tuple(args.strategies.split(",")),
                           baseline_for=(tuple(args.strategies.split(","))
                                         if args.baselines else ())).with_first_epochs(cfg, ds.size)
        bar = progress_bar(settings, cfg, desc=spec)
        try:
            paths = evaluate_one(spec, cfg, label, settings, Path(args.out) / folder_key(spec),
                                 bar_progress(bar))
        finally:
            bar.close()
        print(f"{spec}: wrote {paths['report']}", flush=True)


if __name__ == "__main__":
    main()
