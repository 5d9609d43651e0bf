"""``ssvae labels import|export|stats``."""
from __future__ import annotations

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.workspace import dataset_from_config, open_store


def register(sub) -> None:
    p = sub.add_parser("labels", help="import, export and count labels")
    lsub = p.add_subparsers(dest="labels_command", metavar="ACTION", required=True)

    imp = lsub.add_parser("import", help="merge another labels.csv into the current labels")
    imp.add_argument("file", help="labels.csv to merge in (columns Serial,label)")
    imp.add_argument("--prefer", choices=("ours", "theirs"), default="ours",
                     help="on a conflict keep the current label (ours, default) or take the imported one")
    imp.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    exp = lsub.add_parser("export", help="write a copy of the current labels.csv")
    exp.add_argument("file", help="where to write the copy")
    stats = lsub.add_parser("stats", help="labels per class")
    for q in (imp, exp, stats):
        add_config_arg(q)
        add_data_args(q)
    imp.set_defaults(func=run_import)
    exp.set_defaults(func=run_export)
    stats.set_defaults(func=run_stats)


def _store(args):
    cfg = config_from_args(args)
    ds = dataset_from_config(cfg)
    return ds, open_store(cfg, ds)


def run_import(args) -> int:
    _, store = _store(args)
    if args.dry_run:
        _, report = store.plan_merge(args.file, args.prefer)
    else:
        report = store.merge_file(args.file, args.prefer)
    print(f"{'would import' if args.dry_run else 'imported'} {args.file}: {report.summary()}")
    for serial, ours, theirs in report.conflicts[:20]:
        print(f"  conflict Serial {serial}: current {ours}, imported {theirs}")
    if len(report.conflicts) > 20:
        print(f"  … and {len(report.conflicts) - 20} more conflicts")
    print(f"{store.path}: {len(store)} labels")
    return 0


def run_export(args) -> int:
    _, store = _store(args)
    out = store.export(args.file)
    print(f"wrote {len(store)} labels to {out}")
    return 0


def run_stats(args) -> int:
    ds, store = _store(args)
    counts = store.counts()
    width = max([5, *(len(n) for n in ds.class_names)])
    print(f"{store.path}: {len(store)} of {ds.size} images labeled")
    top = max(counts) or 1
    for name, n in zip(ds.class_names, counts):
        print(f"{name:<{width}}  {n:>6}  {'█' * round(30 * n / top)}")
    return 0
