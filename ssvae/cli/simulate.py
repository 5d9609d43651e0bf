"""``ssvae simulate``: active learning with the ground truth as the oracle."""
from __future__ import annotations

import csv
import time
from pathlib import Path

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.workspace import dataset_from_config
from ssvae.errors import SSVAEError
from ssvae.paths import artifacts_root
from ssvae.ranking import DEFAULT_STRATEGY, QUERY_STRATEGIES


def _int_list(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def config_name(args) -> str:
    return Path(args.config).stem if args.config else "default"


def register(sub) -> None:
    p = sub.add_parser("simulate", help="simulate active learning with the ground truth as oracle",
                       description="Start from --initial labels, then each round rank the pool "
                                   "with each strategy, label the top --step from the ground "
                                   "truth, retrain incrementally and measure test accuracy.")
    add_config_arg(p)
    add_data_args(p, labels=False)
    p.add_argument("--strategies", default=f"{DEFAULT_STRATEGY},margin,random",
                   help=f"comma-separated, from: {', '.join(QUERY_STRATEGIES)}")
    p.add_argument("--baseline", default=None, metavar="ARM,…",
                   help="also fit the plain baseline (logistic regression on pixels) on the "
                        "labels of these strategies at every round, e.g. 'auto,random'")
    p.add_argument("--initial", type=int, default=10, help="starting labels (one per class first)")
    p.add_argument("--step", type=int, default=10, help="labels added per round")
    p.add_argument("--budget", type=int, default=200, help="labels at the end")
    p.add_argument("--epochs-per-round", type=int, default=None,
                   help="training epochs per round (default: a retrain's on the page, from "
                        "train.retrain_steps)")
    p.add_argument("--first-epochs", type=int, default=None,
                   help="epochs of the initial model (default: the config's train.epochs)")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, …)")
    p.add_argument("--seed-list", type=_int_list, default=None, metavar="0,1,…",
                   help="explicit seeds instead of --seeds")
    p.add_argument("--test-fraction", type=float, default=None, metavar="F",
                   help="for a data set with ground truth but no test split (class-folder "
                        "images): hold out this fraction of it, per class, as the test split")
    p.add_argument("--out", default=None, help="output folder (default: artifacts/simulations/<stamp>)")
    p.set_defaults(func=run)


def run(args) -> int:
    from tqdm import tqdm

    from ssvae.simulate import (COLUMNS, SimulationSettings, hold_out_test, run_simulation,
                                settings_notes, write_outputs)

    cfg = config_from_args(args)
    ds = dataset_from_config(cfg)
    if args.test_fraction is not None:
        if ds.has_test:
            raise SSVAEError(f"data set '{ds.name}' has its own test split; leave out --test-fraction.")
        ds = hold_out_test(ds, args.test_fraction)
    if args.seeds < 1 and not args.seed_list:
        raise SSVAEError(f"--seeds must be at least 1 (got {args.seeds}).")
    settings = SimulationSettings(
        strategies=tuple(s.strip() for s in args.strategies.split(",") if s.strip()),
        initial=args.initial, step=args.step, budget=args.budget,
        epochs_per_round=args.epochs_per_round, first_epochs=args.first_epochs,
        seeds=args.seed_list or tuple(range(args.seeds)),
        baseline_for=tuple(s.strip() for s in (args.baseline or "").split(",") if s.strip()),
        ).with_first_epochs(cfg, ds.size)
    settings.validate(ds)
    out = Path(args.out) if args.out else artifacts_root() / "simulations" / (
        time.strftime("%Y%m%d-%H%M%S") + f"-{ds.name}")
    bar = progress_bar(settings, cfg)

    out.mkdir(parents=True, exist_ok=True)
    partial = out / "results.partial.csv"
    t0 = time.perf_counter()
    with open(partial, "w", newline="") as fh:  # rows as they come: a crash keeps them
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()

        def on_row(row):
            writer.writerow(row)
            fh.flush()

        try:
            rows = run_simulation(cfg, ds, settings, progress=bar_progress(bar), on_row=on_row)
        finally:
            bar.close()
    notes = settings_notes(settings, cfg, config_name(args), time.perf_counter() - t0, ds)
    paths = write_outputs(rows, out, f"Active learning on {ds.name}", notes)
    partial.unlink()
    print(paths["report"].read_text())
    print(f"wrote {paths['csv']}, {paths['html']} and {paths['report']}")
    return 0


def progress_bar(settings, config=None, desc: str | None = None):
    """A tqdm bar over the run's training epochs, its total known from the start (the
    initial models included), so it shows an ETA as soon as training begins."""
    from tqdm import tqdm

    return tqdm(total=settings.total_epochs(config), unit="epoch", desc=desc, dynamic_ncols=True,
                bar_format="{l_bar}{bar}| {n:.1f}/{total} epochs [{elapsed}<{remaining}]{postfix}")


def bar_progress(bar):
    def progress(done, total, text):
        bar.update(done - bar.n)
        bar.set_postfix_str(text, refresh=False)
    return progress
