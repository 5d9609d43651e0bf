"""Hyper-parameter sweep without pydantic/tqdm (runs on a bare JAX machine).

usage: python scripts/sweep.py SWEEP.json OUT.jsonl
SWEEP.json: {"defaults": <Config.model_dump()>, "seeds": [0,1,2], "runs": [{"name":..., "over": {"train.x": v}, "epochs": N}]}
Trains each run on 10 labels per class (label seed = seed) of the bundled MNIST pool and
records test accuracy after every epoch.
"""
import copy, json, sys, time, types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def ns(d):
    return types.SimpleNamespace(**{k: (ns(v) if isinstance(v, dict) else v) for k, v in d.items()})


def main():
    spec = json.loads(Path(sys.argv[1]).read_text())
    out = open(sys.argv[2], "a")
    from ssvae.data import load_dataset
    from ssvae.train import Trainer
    ds = load_dataset("mnist")
    for run in spec["runs"]:
        for seed in run.get("seeds", spec["seeds"]):
            raw = copy.deepcopy(spec["defaults"])
            for k, v in run.get("over", {}).items():
                sec, key = k.split(".")
                raw[sec][key] = v
            cfg = ns(raw)
            rng = np.random.default_rng(seed)
            lab = np.full(ds.size, -1)
            for c in range(10):
                lab[rng.choice(np.flatnonzero(ds.truth == c), run.get("per_class", 10), replace=False)] = c
            t0 = time.time()
            tr = Trainer(cfg, ds)
            accs = []
            tr.train_epochs(run["epochs"], lab, on_progress=lambda d: accs.append(round(d["test_accuracy"], 4)) if d["event"] == "epoch" else None)
            rec = {"name": run["name"], "seed": seed, "over": run.get("over", {}), "epochs": run["epochs"],
                   "final": accs[-1], "best": max(accs), "accs": accs, "seconds": round(time.time() - t0, 1),
                   "val_loss": round(tr.history[-1]["val_loss"], 2), "kl_z": round(tr.history[-1]["kl_z"], 2)}
            print(json.dumps({k: rec[k] for k in ("name", "seed", "final", "best", "seconds")}), flush=True)
            out.write(json.dumps(rec) + "\n"); out.flush()


main()
