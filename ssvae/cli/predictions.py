"""``ssvae predictions export``: the model's predictions for every image as CSV or Parquet (no JAX)."""
from __future__ import annotations

import sys

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.export import PREDICTION_FORMATS


def register(sub) -> None:
    p = sub.add_parser("predictions", help="export the model's predictions")
    psub = p.add_subparsers(dest="predictions_command", metavar="ACTION", required=True)
    exp = psub.add_parser(
        "export", help="one row per image: file, label, predicted class, each class's "
                       "probability, every uncertainty score, map x/y")
    exp.add_argument("file", help="file to write")
    exp.add_argument("--format", choices=PREDICTION_FORMATS, default=None,
                     help="csv, or parquet (needs pyarrow) (default: parquet for a .parquet "
                          "file name, else csv)")
    exp.add_argument("--run", default=None, metavar="DIR",
                     help="run folder whose predictions to export (default: the data set's "
                          "current model, the one the page and 'ssvae train' update)")
    add_config_arg(exp)
    add_data_args(exp)
    exp.set_defaults(func=run_export)


def run_export(args) -> int:
    from ssvae.cli.map import find_predictions
    from ssvae.export import (check_file_target, is_stdout, prediction_format, predictions_bytes,
                              predictions_frame, write_into)
    from ssvae.predictions import load_trained
    from ssvae.workspace import current_predictions, dataset_from_config, open_store

    fmt = prediction_format(args.file, args.format)
    check_file_target(args.file)  # a bad target fails before the data set is read
    cfg = config_from_args(args)
    ds = dataset_from_config(cfg)
    path = find_predictions(ds.name, args.run) or current_predictions(ds.name)  # says where it looked
    preds = load_trained(path, ds)
    store = open_store(cfg, ds)
    frame = predictions_frame(preds, ds.class_names, store.as_dict(), ds.paths, store.skipped())
    write_into(args.file, predictions_bytes(frame, fmt))
    print(f"wrote the predictions of {path.parent} for {len(frame)} images "
          f"({frame.shape[1]} columns, {fmt}) to {args.file}",
          file=sys.stderr if is_stdout(args.file) else sys.stdout)
    return 0
