"""``ssvae labels import|export|stats``."""
from __future__ import annotations

import json
import sys

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.export import LABEL_FORMATS
from ssvae.workspace import dataset_from_config, open_store


def register(sub) -> None:
    p = sub.add_parser("labels", help="import, export and count labels")
    lsub = p.add_subparsers(dest="labels_command", metavar="ACTION", required=True)

    imp = lsub.add_parser("import", help="merge another labels.csv into the current labels")
    imp.add_argument("file", help="labels.csv to merge in (columns Serial,label)")
    imp.add_argument("--prefer", choices=("ours", "theirs"), default="ours",
                     help="on a conflict keep the current label (ours, default) or take the imported one")
    imp.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    exp = lsub.add_parser("export", help="write the current labels as CSV, JSON Lines or class folders")
    exp.add_argument("file", help="file to write (csv, jsonl), or a new or empty folder (folders)")
    exp.add_argument("--format", choices=LABEL_FORMATS, default=None,
                     help="csv: a labels.csv (Serial,label); jsonl: one JSON object a line "
                          "(Serial, label, and file where the images are files); folders: one "
                          "sub-folder per class with its images as <Serial>.png "
                          "(default: from the file name's extension, else csv)")
    stats = lsub.add_parser("stats", help="labels per class")
    stats.add_argument("--json", action="store_true",
                       help="print one JSON object (keys: labels_file, dataset, images, labeled, skipped, "
                            "classes: [{name, labeled}])")
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


def export_format(file: str, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    return "jsonl" if file.lower().endswith((".jsonl", ".ndjson")) else "csv"


def run_export(args) -> int:
    from ssvae.export import (check_file_target, export_label_folders, is_stdout, labels_jsonl,
                              write_text_into)

    fmt = export_format(args.file, args.format)
    if fmt != "folders":
        check_file_target(args.file)  # a bad target fails before the data set is read
    ds, store = _store(args)
    labels = store.as_dict()
    if fmt == "folders":
        export_label_folders(args.file, labels, ds.images, ds.class_names)
        print(f"wrote {len(labels)} images in {ds.num_classes} class folders to {args.file}")
        return 0
    text = (store.to_csv() if fmt == "csv"
            else labels_jsonl(labels, ds.class_names, ds.paths, store.skipped()))
    write_text_into(args.file, text)
    print(f"wrote {len(labels)} labels to {args.file}",
          file=sys.stderr if is_stdout(args.file) else sys.stdout)
    return 0


def run_stats(args) -> int:
    ds, store = _store(args)
    counts = store.counts()
    if args.json:
        print(json.dumps({"labels_file": str(store.path), "dataset": ds.name, "images": ds.size,
                          "labeled": len(store), "skipped": len(store.skipped()),
                          "classes": [{"name": n, "labeled": c} for n, c in zip(ds.class_names, counts)]},
                         ensure_ascii=False))
        return 0
    width = max([5, *(len(n) for n in ds.class_names)])
    skipped = len(store.skipped())
    print(f"{store.path}: {len(store)} of {ds.size} images labeled"
          + (f", {skipped} skipped (set aside, in {store.skipped_path.name})" if skipped else ""))
    top = max(counts) or 1
    for name, n in zip(ds.class_names, counts):
        print(f"{name:<{width}}  {n:>6}  {'█' * round(30 * n / top)}")
    return 0
