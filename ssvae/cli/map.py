"""``ssvae map``: the 2-D map as a CSV (``Serial,x,y`` and, from a model, ``predicted,uncertainty``).

With a model it writes the map of a predictions snapshot (of any folder holding one, ``--run``,
or by default the data set's current model, :func:`ssvae.workspace.model_dir`); with none it
embeds the images themselves (:func:`ssvae.embedding.image_map`).
``uncertainty`` is 1 − the probability of the predicted class. No JAX.
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.workspace import dataset_from_config
from ssvae.errors import CheckpointError, SSVAEError

PREDICTIONS = "predictions.npz"


def register(sub) -> None:
    p = sub.add_parser("map", help="write the 2-D map of the data set as Serial,x,y CSV")
    add_config_arg(p)
    add_data_args(p, labels=False)
    p.add_argument("--run", default=None, metavar="DIR",
                   help="a run folder (or any folder holding a predictions.npz) whose map to use "
                        "(default: the data set's current model, the selected one: "
                        "artifacts/workspace/<dataset>/models/<name>/)")
    p.add_argument("--images", action="store_true",
                   help="embed the images themselves even where a model exists")
    p.add_argument("--seed", type=int, default=0, help="seed of the image map (default: 0)")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="CSV file to write")
    p.set_defaults(func=run_map)


def find_predictions(dataset_name: str, run: str | None = None) -> Path | None:
    """The predictions snapshot to map: the run's (which must exist), or by default the data
    set's current model's (if any)."""
    from ssvae.workspace import current_predictions

    if run is not None:
        path = Path(run) / PREDICTIONS
        if not path.is_file():
            raise CheckpointError(f"{run}: not a run folder with a {PREDICTIONS}.")
        return path
    return current_predictions(dataset_name, required=False)


def run_map(args) -> int:
    import numpy as np

    from ssvae.export import ExportError, check_file_target, is_stdout, write_text_into

    try:
        check_file_target(args.out)  # a bad target fails before anything is computed
    except ExportError as exc:
        raise SSVAEError(f"--out {exc}") from None
    say = sys.stderr if is_stdout(args.out) else sys.stdout  # keep stdout for the CSV itself
    cfg = config_from_args(args)
    ds = dataset_from_config(cfg)
    out = Path(args.out)
    path = None if args.images else find_predictions(ds.name, args.run)
    if path is None:
        from ssvae.embedding import image_map

        print(f"mapping the {ds.size} images of '{ds.name}' themselves"
              + ("" if args.images else " (no model yet)"), file=say)
        map2d = image_map(ds.images, seed=args.seed)
        header = ["Serial", "x", "y"]
        rows = ([i, f"{x:.6g}", f"{y:.6g}"] for i, (x, y) in enumerate(map2d))
    else:
        from ssvae.predictions import Predictions

        preds = Predictions.load(path)
        if not preds.fits(ds.size, ds.num_classes) or preds.map2d.shape != (ds.size, 2):
            raise CheckpointError(f"{path}: predictions are for {preds.probs.shape[0]} images and "
                                  f"{preds.probs.shape[1]} classes, but '{ds.name}' has {ds.size} "
                                  f"and {ds.num_classes}; train again on this data set.")
    if path is not None and not preds.has_model:  # the map of the images, before any model
        print(f"map of the images in {path.parent} (no model yet)", file=say)
        header = ["Serial", "x", "y"]
        rows = ([i, f"{x:.6g}", f"{y:.6g}"] for i, (x, y) in enumerate(np.asarray(preds.map2d)))
    elif path is not None:
        print(f"map of the model in {path.parent} "
              f"(epoch {preds.meta.get('epoch', '?')}, {preds.meta.get('num_labels', '?')} labels)",
              file=say)
        names = [str(c) for c in ds.class_names]
        header = ["Serial", "x", "y", "predicted", "uncertainty"]
        rows = ([i, f"{x:.6g}", f"{y:.6g}", names[k], f"{1.0 - c:.4f}"] for i, ((x, y), k, c)
                in enumerate(zip(np.asarray(preds.map2d), preds.pred, preds.confidence)))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    try:
        write_text_into(out, buf.getvalue())
    except ExportError as exc:
        raise SSVAEError(f"--out {exc}") from None
    print(f"wrote {ds.size} points to {out}", file=say)
    return 0
