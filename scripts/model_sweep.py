"""Model quality against a plain baseline, on several data sets, with class-balanced random labels.

usage:
  python scripts/model_sweep.py baseline [--datasets fashion10k,mnist] [--labels 100,200] [--seeds 0,1,2]
  python scripts/model_sweep.py model --name NAME [--config default] [--set train.x=V ...]
         [--datasets ...] [--labels ...] [--seeds ...] [--checkpoints 2,5,10,20]
  python scripts/model_sweep.py table [--out FILE.jsonl]   # mean ± sample sd per arm
Appends one JSON line per (data set, labels, seed) to docs/sweeps/model.jsonl (``--out``).

Data sets:
* ``fashion10k``: a fixed class-stratified 10 000-image subsample (1 000 per class, numpy seed 0)
  of the Fashion-MNIST train file as the pool; the official 10 000 test images as test.
* ``fashion60k``: the whole 60 000-image Fashion-MNIST train file as the pool.
* ``mnist``: the bundled MNIST (4 000 pool, 1 000 test).
* ``digits``, ``glyphs``: the self-assembled sets of the evaluation matrix, with its 20 % test split.

Labels: ``n/10`` per class drawn from the pool with ``numpy.random.default_rng(seed)``.
Validation (what chooses settings): up to 2 000 pool images that are not labeled (fixed seed;
their ground truth is used for this measurement only). Test accuracy is reported, never used
to choose. Model runs record validation and test accuracy at each checkpoint epoch, the
wall time, and the mean epoch time.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VAL_MAX = 2000


def load(name: str):
    from ssvae.data import load_dataset
    from ssvae.data.dataset import Dataset

    if name == "mnist":
        return load_dataset("mnist")
    if name in ("digits", "glyphs"):  # the matrix's own held-out split (ssvae/evaluate.py)
        from ssvae.config import load_config
        from ssvae.evaluate import load_for_evaluation
        return load_for_evaluation(name, load_config("default"))
    ds = load_dataset("fashion-mnist")
    if name == "fashion60k":
        return ds
    if name == "fashion10k":
        rng = np.random.default_rng(0)
        idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(ds.truth == c), 1000, replace=False)
                                      for c in range(ds.num_classes)]))
        return Dataset(name="fashion-mnist-10k", images=ds.images[idx], class_names=ds.class_names,
                       source=ds.source + " (stratified 10k, seed 0)", truth=ds.truth[idx],
                       test_images=ds.test_images, test_truth=ds.test_truth)
    raise SystemExit(f"unknown data set {name!r}")


def balanced_labels(truth: np.ndarray, n: int, seed: int) -> np.ndarray:
    classes = np.unique(truth)
    per = n // classes.size
    rng = np.random.default_rng(seed)
    lab = np.full(truth.size, -1, dtype=np.int64)
    for c in classes:
        lab[rng.choice(np.flatnonzero(truth == c), per, replace=False)] = c
    return lab


def val_indices(lab: np.ndarray, seed: int) -> np.ndarray:
    free = np.flatnonzero(lab < 0)
    rng = np.random.default_rng([seed, 77])
    return np.sort(rng.choice(free, min(VAL_MAX, free.size), replace=False))


def write(out: Path, rec: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps(rec) + "\n")
    print(json.dumps({k: rec[k] for k in rec if k not in ("curve",)}), flush=True)


def run_baseline(args) -> None:
    from sklearn.linear_model import LogisticRegression

    for dname in args.datasets:
        ds = load(dname)
        x = ds.images.reshape(ds.size, -1) / 255.0
        xt = ds.test_images.reshape(len(ds.test_images), -1) / 255.0
        for n in args.labels:
            for seed in args.seeds:
                lab = balanced_labels(ds.truth, n, seed)
                li, vi = np.flatnonzero(lab >= 0), val_indices(lab, seed)
                t0 = time.perf_counter()
                clf = LogisticRegression(max_iter=2000).fit(x[li], lab[li])
                write(args.out, {"name": "logreg", "dataset": dname, "labels": n, "seed": seed,
                                 "val": float((clf.predict(x[vi]) == ds.truth[vi]).mean()),
                                 "test": float((clf.predict(xt) == ds.test_truth).mean()),
                                 "seconds": round(time.perf_counter() - t0, 2)})


def parse_value(v: str):
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


def probs_fn(model):
    """q(y|x) of ``model``'s classifier (the encoder's mean, no dropout; the members'
    average) over any number of images: ``probs(params, images, bs=2000)`` in padded batches
    of ``bs``, one compile."""
    import jax

    from ssvae.core import member_probs
    from ssvae.models import to_float

    @jax.jit
    def batch(params, images):
        return member_probs(params, to_float(images), model=model)

    def probs(params, images, bs=2000):
        out = []
        for s in range(0, len(images), bs):
            chunk = images[s:s + bs]
            pad = bs - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.zeros((pad,) + chunk.shape[1:], chunk.dtype)])
            out.append(np.asarray(batch(params, chunk))[: bs - pad])
        return np.concatenate(out)

    return probs


def accuracy_fn(model):
    probs = probs_fn(model)
    return lambda params, images, truth: float((probs(params, images).argmax(1) == truth).mean())


def labels_from_picks(picks_csv: Path, strategy: str, seed: int, n: int, size: int) -> np.ndarray:
    """The labeled set (-1 where unlabeled) a simulation's ``strategy`` had for ``seed`` when it
    reached ``n`` labels, rebuilt round by round from its picks.csv."""
    import csv

    with Path(picks_csv).open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["strategy"] == strategy and int(r["seed"]) == seed]
    lab = np.full(size, -1, np.int64)
    for rnd in sorted({int(r["round"]) for r in rows}):
        if (lab >= 0).sum() >= n:
            break
        for r in rows:
            if int(r["round"]) == rnd:
                lab[int(r["index"])] = int(r["label"])
    if (lab >= 0).sum() != n:
        raise SystemExit(f"seed {seed}: no round of {strategy} ends at {n} labels")
    return lab


def run_model(args) -> None:
    from ssvae.config import load_config
    from ssvae.schedule import resolve
    from ssvae.train import Trainer

    over = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    cfg = load_config(args.config, over)
    for dname in args.datasets:
        ds = load(dname)
        for n in args.labels:
            for seed in args.seeds:
                lab = balanced_labels(ds.truth, n, seed)
                vi = val_indices(lab, seed)
                c = resolve(cfg.with_overrides({"train.seed": seed}), ds.size)
                t0 = time.perf_counter()
                tr = Trainer(c, ds)
                acc = accuracy_fn(tr.model)
                curve, done = [], 0
                for cp in args.checkpoints:
                    tr.train_epochs(cp - done, lab)
                    done = cp
                    curve.append({"epoch": cp, "step": int(tr.history[-1]["step"]),
                                  "val": round(acc(tr.eval_params, ds.images[vi], ds.truth[vi]), 4),
                                  "test": round(tr.history[-1]["test_accuracy"], 4),
                                  "seconds": round(time.perf_counter() - t0, 1)})
                    print(f"  {args.name} {dname} {n} seed {seed}: {curve[-1]}", flush=True)
                ep = [h["seconds"] for h in tr.history]
                write(args.out, {"name": args.name, "config": args.config, "over": over,
                                 "dataset": dname, "labels": n, "seed": seed,
                                 "val": curve[-1]["val"], "test": curve[-1]["test"],
                                 "epochs": done, "seconds": curve[-1]["seconds"],
                                 "epoch_seconds_median": round(float(np.median(ep)), 3),
                                 "curve": curve})


def table(args) -> None:
    """Markdown table: data set, arm, labels → validation and test accuracy (mean ± sample sd
    over the seeds, with their count), epochs and wall time."""
    groups: dict = {}
    for line in args.out.read_text().splitlines():
        r = json.loads(line)
        groups.setdefault((r["dataset"], r["name"], r.get("epochs", "-"), r["labels"]), []).append(r)
    print("| data set | arm | epochs | labels | seeds | validation | test | wall s (each) |")
    print("|---|---|---|---|---|---|---|---|")
    for (d, name, ep, n), rs in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        def ms(key):
            v = np.array([r[key] for r in rs]) * 100
            return f"{v.mean():.1f}" + (f" ± {v.std(ddof=1):.1f}" if v.size > 1 else "")
        secs = "/".join(f"{r['seconds']:.0f}" for r in rs)
        print(f"| {d} | {name} | {ep} | {n} | {len(rs)} | {ms('val')} | {ms('test')} | {secs} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("baseline", "model", "table"))
    ap.add_argument("--name", default="default")
    ap.add_argument("--config", default="default")
    ap.add_argument("--set", action="append", default=[], help="dotted override, e.g. train.epochs=5")
    ap.add_argument("--datasets", default="fashion10k,mnist")
    ap.add_argument("--labels", default="100,200")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--checkpoints", default="2,5,10,20")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "sweeps" / "model.jsonl")
    args = ap.parse_args()
    args.datasets = args.datasets.split(",")
    args.labels = [int(v) for v in args.labels.split(",")]
    args.seeds = [int(v) for v in args.seeds.split(",")]
    args.checkpoints = [int(v) for v in args.checkpoints.split(",")]
    {"baseline": run_baseline, "model": run_model, "table": table}[args.what](args)


if __name__ == "__main__":
    main()
