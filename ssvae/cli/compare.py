"""``ssvae compare``: train several configurations on the same data and labels."""
from __future__ import annotations

import time
from pathlib import Path

from ssvae.cli.common import add_data_args, config_from_args, dataset_from_config, labels_path
from ssvae.config import load_config
from ssvae.errors import SSVAEError
from ssvae.labels import LabelStore
from ssvae.paths import artifacts_root


def register(sub) -> None:
    p = sub.add_parser("compare", help="train several configurations on the same data and labels")
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML configurations to compare")
    add_data_args(p)
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration (0, 1, …)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: each config's)")
    p.add_argument("--per-class", type=int, default=10,
                   help="without labels: this many ground-truth labels per class (seed 0)")
    p.add_argument("--out", default=None, help="output folder (default: artifacts/comparisons/<stamp>)")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from ssvae.compare import compare_configs, write_comparison

    if args.seeds < 1:
        raise SSVAEError(f"--seeds must be at least 1 (got {args.seeds}).")
    args.config = args.configs[0]
    first = config_from_args(args)
    ds = dataset_from_config(first)
    configs = [(Path(c).stem, load_config(c, {"data.dataset": first.data.dataset})) for c in args.configs]
    path = labels_path(first, ds)
    store = LabelStore(path, ds.size, ds.class_names) if Path(path).exists() else None
    if store is not None and len(store):
        labels, note = store.as_dict(), f"from {path}"
    elif ds.has_truth:
        rng = np.random.default_rng(0)
        labels = {int(s): int(ds.truth[s]) for c in range(ds.num_classes)
                  for s in rng.choice(np.flatnonzero(ds.truth == c), args.per_class, replace=False)}
        note = f"{args.per_class} per class drawn from the ground truth with seed 0"
    else:
        raise SSVAEError(f"{path} holds no labels and '{ds.name}' has no ground truth to draw from.")
    bar = tqdm(total=len(configs) * args.seeds, unit="model", dynamic_ncols=True)

    def progress(done, total, text):
        bar.update(done - bar.n)
        bar.set_postfix_str(text)

    results = compare_configs(configs, ds, labels, tuple(range(args.seeds)), args.epochs, progress)
    bar.close()
    out = Path(args.out) if args.out else artifacts_root() / "comparisons" / time.strftime("%Y%m%d-%H%M%S")
    report = write_comparison(results, ds, labels, out, note)
    print(report.read_text())
    print(f"wrote {out}")
    return 0
