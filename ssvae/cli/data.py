"""``ssvae data info``: what a data source holds and where it was read from."""
from __future__ import annotations

import json
from pathlib import Path

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.workspace import dataset_from_config, labels_path
from ssvae.labels import LabelStore


def register(sub) -> None:
    p = sub.add_parser("data", help="inspect data sets")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    info = dsub.add_parser("info", help="size, image shape, class balance, source and label counts")
    add_config_arg(info)
    add_data_args(info)
    info.add_argument("--json", action="store_true",
                      help="print one JSON object (keys: dataset, source, notes, images, "
                           "image_shape, test_images, labels_file, labeled, "
                           "classes: [{name, truth, labeled}])")
    info.set_defaults(func=run_info)


def run_info(args) -> int:
    cfg = config_from_args(args)
    ds = dataset_from_config(cfg)
    h, w, c = ds.image_shape
    path = labels_path(cfg, ds)
    counts = None
    if ds.class_names and Path(path).exists():
        counts = LabelStore.for_dataset(ds, path).counts()
    truth = ds.class_counts() if ds.has_truth else None
    if args.json:
        print(json.dumps({
            "dataset": ds.name, "source": str(ds.source), "notes": list(ds.notes),
            "images": ds.size, "image_shape": [h, w, c],
            "test_images": len(ds.test_images) if ds.has_test else None,
            "labels_file": str(path), "labeled": sum(counts) if counts else 0,
            "classes": [{"name": name, "truth": int(truth[i]) if truth is not None else None,
                         "labeled": counts[i] if counts else 0}
                        for i, name in enumerate(ds.class_names)],
        }, ensure_ascii=False))
        return 0
    print(f"data set     {ds.name}")
    print(f"read from    {ds.source}")
    for note in ds.notes:
        print(f"note         {note}")
    print(f"images       {ds.size} to label, {h}×{w}×{c} uint8")
    print(f"test split   {len(ds.test_images) if ds.has_test else 'none'}")
    print(f"classes      {ds.num_classes}: {', '.join(ds.class_names) or '(none named)'}")
    print(f"labels.csv   {path} ({sum(counts) if counts else 0} labeled)")
    width = max([5, *(len(n) for n in ds.class_names)])
    if ds.class_names:
        print(f"\n{'class':<{width}}  {'truth':>7}  {'labeled':>7}")
        for i, name in enumerate(ds.class_names):
            t = f"{truth[i]:>7}" if truth is not None else f"{'-':>7}"
            n = counts[i] if counts else 0
            print(f"{name:<{width}}  {t}  {n:>7}")
    return 0
