"""``ssvae compare``: train several configurations on the same data and labels."""
from __future__ import annotations

import time
from pathlib import Path

from ssvae.cli.common import add_data_args
from ssvae.workspace import dataset_from_config
from ssvae.config import load_config
from ssvae.errors import SSVAEError
from ssvae.labels import LabelStore
from ssvae.paths import artifacts_root


def register(sub) -> None:
    p = sub.add_parser("compare", help="train several configurations on the same data and labels",
                       description="Train each configuration from scratch on the same data set "
                                   "and labels, once per seed, and write one report under "
                                   "artifacts/comparisons/: test accuracy, final losses and "
                                   "seconds per epoch (mean ± spread), loss curves overlaid, "
                                   "latent maps side by side. The data set and its settings come "
                                   "from the first configuration (or --dataset).")
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML configurations to compare")
    p.add_argument("--dataset", default=None, metavar="SOURCE",
                   help="data source (default: the first configuration's)")
    p.add_argument("--classes", default=None, metavar="A,B,…",
                   help="class names, for a source that does not carry its own")
    p.add_argument("--labels", default=None, metavar="CSV|N",
                   help="a labels.csv, or a number N of labels drawn from the ground truth "
                        "(spread over the classes, seed 0); default: the data set's labels.csv "
                        "when it holds labels, else --per-class per class from the ground truth")
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration (0, 1, …)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: each config's)")
    p.add_argument("--per-class", type=int, default=10,
                   help="without labels: this many ground-truth labels per class (seed 0)")
    p.add_argument("--out", default=None, help="output folder (default: artifacts/comparisons/<stamp>)")
    p.set_defaults(func=run)


def choose_labels(args, ds, cfg) -> tuple[dict[int, int], str]:
    """The labels every configuration trains on, and a note saying where they came from."""
    import numpy as np

    from ssvae.compare import ground_truth_labels

    spec = args.labels
    if spec is not None and spec.strip().isdigit() and not Path(spec).exists():
        if not ds.has_truth:
            raise SSVAEError(f"--labels {spec} draws labels from the ground truth, but "
                             f"'{ds.name}' has none; give a labels.csv instead.")
        return (ground_truth_labels(np.asarray(ds.truth), int(spec), ds.num_classes, 0),
                f"{int(spec)} drawn from the ground truth, spread over the classes, seed 0")
    if spec is not None:
        if not Path(spec).is_file():
            raise SSVAEError(f"{spec}: labels file not found (give a labels.csv or a number of labels).")
        store = LabelStore(spec, ds.size, ds.class_names)
        if not len(store):
            raise SSVAEError(f"{spec} holds no labels; label some images or give a number of labels.")
        return store.as_dict(), f"from {spec}"
    path = (Path(cfg.data.labels) if cfg.data.labels
            else ds.default_labels_path if ds.labels_dir is not None else None)
    if path is not None and path.is_file():
        store = LabelStore(path, ds.size, ds.class_names)
        if len(store):
            return store.as_dict(), f"from {path}"
    if not ds.has_truth:
        raise SSVAEError(f"'{ds.name}' has no labels.csv with labels and no ground truth to draw "
                         "labels from; give --labels CSV.")
    if args.per_class < 1:
        raise SSVAEError(f"--per-class must be at least 1 (got {args.per_class}).")
    counts = ds.class_counts()
    n = int(np.minimum(counts, args.per_class).sum())
    rng = np.random.default_rng(0)
    labels = {int(s): int(ds.truth[s]) for c in range(ds.num_classes)
              for s in rng.choice(np.flatnonzero(ds.truth == c), min(args.per_class, int(counts[c])),
                                  replace=False)}
    assert len(labels) == n
    return labels, f"{args.per_class} per class drawn from the ground truth with seed 0"


def run(args) -> int:
    from tqdm import tqdm

    from ssvae.compare import compare_configs, unique_names, write_comparison

    if args.seeds < 1:
        raise SSVAEError(f"--seeds must be at least 1 (got {args.seeds}).")
    if args.epochs is not None and args.epochs < 1:
        raise SSVAEError(f"--epochs must be at least 1 (got {args.epochs}).")
    data_over = {"data.dataset": args.dataset}
    if args.classes:
        data_over["data.classes"] = [c.strip() for c in args.classes.split(",") if c.strip()]
    first = load_config(args.configs[0], data_over)
    over = {"data.dataset": first.data.dataset}
    configs = [(name, load_config(c, over))
               for name, c in zip(unique_names(args.configs), args.configs)]
    ds = dataset_from_config(first)
    labels, note = choose_labels(args, ds, first)
    t0 = time.perf_counter()
    bar = tqdm(total=len(configs) * args.seeds, unit="model", dynamic_ncols=True)

    def progress(done, total, text):
        bar.update(done - bar.n)
        bar.set_postfix_str(text)

    try:
        results = compare_configs(configs, ds, labels, tuple(range(args.seeds)), args.epochs, progress)
    finally:
        bar.close()
    out = Path(args.out) if args.out else artifacts_root() / "comparisons" / (
        time.strftime("%Y%m%d-%H%M%S") + f"-{ds.name}")
    epochs = args.epochs or ", ".join(f"{n} {c.train.epochs}" for n, c in configs)
    report = write_comparison(results, ds, labels, out, note,
                              [f"epochs: {epochs}; wall time {time.perf_counter() - t0:.0f} s"])
    print(report.read_text())
    print(f"wrote {out}")
    return 0
