"""The restart rule (`train.restart_growth`) in the labeling loop, on every data set of the
matrix: the default strategy and random, with the plain baseline on the default's labels, as
`ssvae evaluate` runs them but with the rule on and the budget given (docs/MODEL.md).

    python scripts/restart_sweep.py --growth 2 --budget 100 --out docs/sweeps/restart_2026-11-26
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ssvae.cli.simulate import bar_progress, progress_bar
from ssvae.config import load_config
from ssvae.evaluate import DATASETS, PLANS, Plan, evaluate_one, folder_key, load_for_evaluation
from ssvae.ranking import DEFAULT_STRATEGY
from ssvae.simulate import SimulationSettings


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--growth", type=float, default=2.0)
    p.add_argument("--budget", type=int, default=100)
    p.add_argument("--seeds", default="3", help="a count (3: seeds 0, 1, 2) or a list (1,2 or 1,)")
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--out", required=True)
    args = p.parse_args()
    seeds = (tuple(range(int(args.seeds))) if "," not in args.seeds
             else tuple(int(s) for s in args.seeds.split(",") if s))
    cfg = load_config("default").with_overrides({"train.restart_growth": args.growth}, "sweep")
    for spec in args.datasets.split(","):
        plan = PLANS.get(spec, Plan())
        ds = load_for_evaluation(spec, cfg)
        settings = SimulationSettings(
            strategies=(DEFAULT_STRATEGY, "random"), initial=plan.initial, step=plan.step,
            budget=min(args.budget, plan.budget), seeds=seeds,
            baseline_for=(DEFAULT_STRATEGY,)).with_first_epochs(cfg, ds.size)
        bar = progress_bar(settings, cfg, desc=spec)
        try:
            paths = evaluate_one(spec, cfg, f"default + restart_growth {args.growth:g}", settings,
                                 Path(args.out) / folder_key(spec), bar_progress(bar))
        finally:
            bar.close()
        print(f"{spec}: wrote {paths['report']}", flush=True)


if __name__ == "__main__":
    main()
