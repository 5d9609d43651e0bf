"""``ssvae rank``: the next images to label, from the current model's predictions (no JAX)."""
from __future__ import annotations

import json
import math
from pathlib import Path

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.workspace import dataset_from_config, open_store
from ssvae.errors import SSVAEError
from ssvae.ranking import STRATEGIES, rank, strategy_reason, trust_of


def register(sub) -> None:
    p = sub.add_parser("rank", help="print the next images to label, most informative first")
    add_config_arg(p)
    add_data_args(p)
    p.add_argument("--strategy", choices=STRATEGIES, default=None,
                   help="query strategy (default: query.strategy of the config)")
    p.add_argument("-k", type=int, default=None, metavar="K", help="how many (default: query.k)")
    p.add_argument("--diverse", action="store_true", default=None,
                   help="spread the batch over the data: weighted k-means over the 10·k most "
                        "uncertain images (5 %% of a large pool), one per cluster")
    p.add_argument("--run", default=None, metavar="DIR",
                   help="run folder whose predictions to use (default: the data set's current model)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (keys: dataset, strategy, diverse, predictions, "
                        "labeled, items: [{rank, serial, score, predicted, confidence}])")
    p.set_defaults(func=run_rank)


def run_rank(args) -> int:
    from ssvae.cli.train import PREDICTIONS
    from ssvae.predictions import load_trained
    from ssvae.workspace import current_predictions

    cfg = config_from_args(args)
    ds = dataset_from_config(cfg)
    store = open_store(cfg, ds)
    strategy = args.strategy or cfg.query.strategy
    k = args.k if args.k is not None else cfg.query.k
    if k < 1:
        raise SSVAEError(f"-k must be at least 1 (got {k}).")
    diverse = cfg.query.diverse if args.diverse is None else args.diverse
    if args.run:
        path = Path(args.run) / PREDICTIONS
    else:
        path = current_predictions(ds.name)
    preds = load_trained(path, ds)
    done, trusted = store.done_mask(), trust_of(preds.meta)
    chosen = rank(preds.scores, strategy, k, done, diverse=diverse, latent=preds.latent,
                  features=preds.embedding, typical_features=preds.typical_features,
                  num_classes=ds.num_classes,
                  trusted=trusted, seed=cfg.train.seed)
    score = preds.scores.get(strategy)
    why = strategy_reason(strategy, int(done.sum()), ds.num_classes, trusted=trusted,
                          new_labels=preds.meta.get("new_labels"))
    if args.json:
        def num(v):
            v = float(v)
            return v if math.isfinite(v) else None
        items = [{"rank": i, "serial": int(s),
                  "score": num(score[s]) if score is not None else None,
                  "predicted": ds.class_names[int(preds.pred[s])],
                  "confidence": num(preds.confidence[s])} for i, s in enumerate(chosen, 1)]
        print(json.dumps({"dataset": ds.name, "strategy": strategy, "diverse": bool(diverse),
                          "predictions": str(path), "labeled": len(store), "why": why,
                          "items": items},
                         ensure_ascii=False))
        return 0
    print(f"{len(chosen)} images to label next by {strategy}{' (diverse)' if diverse else ''} "
          f"— predictions of {path.parent.name}, {len(store)} labeled now")
    width = max(5, *(len(c) for c in ds.class_names))
    print(f"{'rank':>4}  {'Serial':>7}  {'score':>8}  {'guess':<{width}}  confidence")
    for i, s in enumerate(chosen, 1):
        sc = f"{score[s]:8.4f}" if score is not None else f"{'-':>8}"
        print(f"{i:>4}  {s:>7}  {sc}  {ds.class_names[preds.pred[s]]:<{width}}  {preds.confidence[s]:.3f}")
    print(f"why: {why}")
    return 0
