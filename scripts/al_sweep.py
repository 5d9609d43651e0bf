"""Quick active-learning check of the model (no pydantic/tqdm; runs on a bare JAX host).

usage: python scripts/al_sweep.py DEFAULTS.json OUT.jsonl [epochs_per_round] [first_epochs]
Start from one label per class, then rounds of: rank with a strategy, label the top 10 with
the ground truth, retrain incrementally; test accuracy after every round up to 200 labels.
"""
import json, sys, time, types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def ns(d):
    return types.SimpleNamespace(**{k: (ns(v) if isinstance(v, dict) else v) for k, v in d.items()})


def main():
    raw = json.loads(Path(sys.argv[1]).read_text())
    over = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    for k, v in over.items():
        sec, key = k.split(".")
        raw[sec][key] = v
    cfg = ns(raw)
    wanted = sys.argv[6].split(",") if len(sys.argv) > 6 else None
    out = open(sys.argv[2], "a")
    per_round = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    from ssvae.data import load_dataset
    from ssvae.ranking import rank
    from ssvae.train import Trainer
    ds = load_dataset("mnist")
    for seed in (0, 1, 2):
        rng = np.random.default_rng(seed)
        start = {int(rng.choice(np.flatnonzero(ds.truth == c))): c for c in range(10)}
        base = Trainer(cfg, ds)
        base.train_epochs(first, start)
        for strategy, diverse in (("entropy", False), ("margin", False), ("bald", False),
                                  ("entropy", True), ("random", False)):
            if wanted and (strategy + ("+diverse" if diverse else "")) not in wanted:
                continue
            t0 = time.time()
            tr = Trainer(cfg, ds)  # a copy of the base model (checkpoints need pydantic)
            tr.state, tr.epoch, tr.history = base.state, base.epoch, list(base.history)
            labels = dict(start)
            curve = [(len(labels), tr.test_accuracy())]
            preds = tr.predict()
            while len(labels) < 200:
                arr = np.full(ds.size, -1)
                for s, c in labels.items():
                    arr[s] = c
                pick = rank(preds.scores, strategy, 10, arr, diverse=diverse, latent=preds.latent, seed=seed + len(labels))
                for s in pick:
                    labels[int(s)] = int(ds.truth[s])
                tr.train_epochs(per_round, labels)
                preds = tr.predict(previous=preds)
                curve.append((len(labels), tr.test_accuracy()))
            name = strategy + ("+diverse" if diverse else "")
            rec = {"variant": over, "strategy": name, "seed": seed, "per_round": per_round, "curve": curve, "seconds": round(time.time() - t0, 1)}
            at = dict(curve)
            print(json.dumps({"v": sys.argv[5] if len(sys.argv) > 5 else "", "strategy": name, "seed": seed, "acc50": at.get(50), "acc100": at.get(100), "acc200": at.get(200), "s": rec["seconds"]}), flush=True)
            out.write(json.dumps(rec) + "\n"); out.flush()


main()
