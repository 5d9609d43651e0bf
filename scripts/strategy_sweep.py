"""A query-strategy or restart-rule variant on the data sets of the matrix, with the matrix's
plan and seeds, so that its rows compare with docs/results row for row (the same first model
per seed): any strategies, the diverse batch's candidates another fraction of the pool, another
`train.restart_growth` (0: always warm), a smaller budget, the plain baseline on each
strategy's labels, another model (``--set KEY=VALUE`` overrides the default config).

    python scripts/strategy_sweep.py --strategies auto,random --baselines --growth 2 --budget 100 --out docs/sweeps/restart_2026-11-26
    python scripts/strategy_sweep.py --diverse-fraction 0.05 --datasets fashion-mnist --out docs/sweeps/diverse_fraction_2026-11-26
    python scripts/strategy_sweep.py --strategies auto,random --baselines --datasets fashion-mnist --set model.classifier=conv --set train.classification_weight=10 --out docs/sweeps/conv_alpha10_2026-12-04
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ssvae import ranking
from ssvae.cli.simulate import bar_progress, progress_bar
from ssvae.config import load_config
from model_sweep import parse_value  # this folder is on sys.path when run as a script
from ssvae.evaluate import (DATASETS, PLANS, Plan, evaluate_one, folder_key, load_for_evaluation,
                            settings_for)


def parse_seeds(text: str) -> tuple[int, ...]:
    """A count (``3``: seeds 0, 1, 2) or a comma list (``1,2``; ``1,`` is seed 1 alone)."""
    if "," not in text:
        return tuple(range(int(text)))
    return tuple(int(s) for s in text.split(",") if s)


def first_model(spec: str, ds, config, seed: int):
    """The evaluation's first model of data set ``spec`` for ``seed`` (its initial labels and
    epochs, as ``ssvae evaluate`` trains it): (settings, initial labels, predictions)."""
    from ssvae.pipeline import train_and_publish
    from ssvae.simulate import initial_labels
    from ssvae.train import Trainer

    settings = settings_for(spec, (seed,), False).with_first_epochs(config, ds.size)
    start = initial_labels(ds.truth, settings.initial, ds.num_classes, seed)
    preds = train_and_publish(Trainer(config.with_overrides({"train.seed": seed}), ds),
                              settings.first_epochs, start, map_kind="pca").predictions
    return settings, start, preds


def main() -> None:
    default = load_config("default")
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--strategies", default=ranking.DEFAULT_STRATEGY, help="comma list")
    p.add_argument("--diverse-fraction", type=float, default=ranking.DIVERSE_FRACTION)
    p.add_argument("--growth", type=float, default=default.train.restart_growth,
                   help="train.restart_growth (default: the config's, %(default)g)")
    p.add_argument("--budget", type=int, default=None,
                   help="labels at the end, at most the plan's (default: the plan's)")
    p.add_argument("--baselines", action="store_true",
                   help="also fit the plain baseline on each strategy's labels")
    p.add_argument("--seeds", default="3", help="a count (3: seeds 0, 1, 2) or a list (1,2 or 1,)")
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a dotted config override (JSON value), e.g. train.classification_weight=10")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    ranking.DIVERSE_FRACTION = args.diverse_fraction
    strategies = tuple(args.strategies.split(","))
    over = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    cfg = default.with_overrides({"train.restart_growth": args.growth, **over}, "sweep")
    # --set train.restart_growth=… overrides --growth: name the value that runs, once
    label = (f"default, diverse batch from max(10·k, {args.diverse_fraction:g} of the pool), "
             f"restart_growth {cfg.train.restart_growth:g}"
             + "".join(f", {k} {v}" for k, v in over.items() if k != "train.restart_growth"))
    for spec in args.datasets.split(","):
        ds = load_for_evaluation(spec, cfg)
        budget = (None if args.budget is None
                  else min(args.budget, PLANS.get(spec, Plan()).budget))
        settings = replace(settings_for(spec, parse_seeds(args.seeds), False, budget=budget),
                           strategies=strategies,
                           baseline_for=strategies if args.baselines else ()
                           ).with_first_epochs(cfg, ds.size)
        bar = progress_bar(settings, cfg, desc=spec)
        try:
            paths = evaluate_one(spec, cfg, label, settings, Path(args.out) / folder_key(spec),
                                 bar_progress(bar))
        finally:
            bar.close()
        print(f"{spec}: wrote {paths['report']}", flush=True)


if __name__ == "__main__":
    main()
