"""``ssvae evaluate``: the evaluation matrix (the simulation over several data sets)."""
from __future__ import annotations

import time
from pathlib import Path

from ssvae.cli.common import add_config_arg, config_from_args
from ssvae.errors import SSVAEError
from ssvae.paths import artifacts_root


def register(sub) -> None:
    from ssvae.evaluate import ARMS, BASELINE_ARMS, DATASETS

    p = sub.add_parser(
        "evaluate", help="the evaluation matrix: simulate labeling on several data sets",
        description="For each data set: the labeling loop with the ground truth as oracle, arms "
                    f"{', '.join(ARMS)}, plus logistic regression on pixels fitted on the labels "
                    f"of {' and '.join(BASELINE_ARMS)}; mean ± sample sd over seeds. Writes "
                    "<out>/<data set>/{REPORT.md,results.csv,accuracy.html} and <out>/README.md.")
    add_config_arg(p)
    p.add_argument("--datasets", default=",".join(DATASETS), metavar="A,B,…",
                   help="data-set specs (mnist, fashion-mnist:N, npz:…, folder:…) or 'digits', 'glyphs'")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, …)")
    p.add_argument("--quick", action="store_true",
                   help="a few minutes: 10 → 30 labels, 3-epoch first model, 1 epoch per round")
    for flag, what in (("initial", "starting labels"), ("step", "labels per round"),
                       ("budget", "labels at the end"), ("epochs-per-round", "epochs per round"),
                       ("first-epochs", "epochs of the initial model")):
        p.add_argument(f"--{flag}", type=int, default=None,
                       help=f"{what} (default: per data set, see docs/SIMULATION.md)")
    p.add_argument("--readme-only", action="store_true",
                   help="only rewrite <out>/README.md from the results already in <out> (after "
                        "data sets were run one per process)")
    p.add_argument("--out", default=None,
                   help="output folder (default: artifacts/evaluations/<stamp>; docs/results for "
                        "the published matrix)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ssvae.cli.simulate import bar_progress, progress_bar
    from ssvae.evaluate import (evaluate_one, folder_key, load_for_evaluation, settings_for,
                                write_matrix_readme)

    if args.readme_only:
        if not args.out or not Path(args.out).is_dir():
            raise SSVAEError("--readme-only needs --out, the folder of an earlier evaluation.")
        readme = write_matrix_readme(Path(args.out))
        print(readme.read_text())
        return 0
    if args.seeds < 1:
        raise SSVAEError(f"--seeds must be at least 1 (got {args.seeds}).")
    specs = [s.strip() for s in args.datasets.split(",") if s.strip()]
    if not specs:
        raise SSVAEError("give at least one data set in --datasets.")
    cfg = config_from_args(args)
    name = Path(args.config).stem if args.config else "default"
    plans = []
    for spec in specs:  # check every data set and setting before any training
        ds = load_for_evaluation(spec, cfg)
        settings = settings_for(spec, tuple(range(args.seeds)), args.quick, initial=args.initial,
                                step=args.step, budget=args.budget,
                                epochs_per_round=args.epochs_per_round,
                                first_epochs=args.first_epochs).with_first_epochs(cfg, ds.size)
        settings.validate(ds)
        plans.append((spec, settings))
    out = Path(args.out) if args.out else artifacts_root() / "evaluations" / time.strftime("%Y%m%d-%H%M%S")
    for spec, settings in plans:
        bar = progress_bar(settings, cfg, desc=spec)
        try:
            paths = evaluate_one(spec, cfg, name, settings, out / folder_key(spec), bar_progress(bar))
        finally:
            bar.close()
        print(f"{spec}: wrote {paths['report']}")
        readme = write_matrix_readme(out)
    print(readme.read_text())
    print(f"wrote {readme}")
    return 0
