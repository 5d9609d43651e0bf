"""Query strategies without the SSVAE: how fast ``rank`` is at 60 000 images, and a cheap
loop that measured the switch rule of ``auto``.

1. Speed: ``rank(..., "typiclust")`` (``auto``'s first phase) and the diverse margin batch
   (its second: weighted k-means over the most uncertain 5 % of the pool) on 60 000 random
   vectors of 16, 32 and 784 dimensions, with 0, 200 and 1 000 images labeled, 20 asked for
   (median of 3 calls, after one warm-up call that imports scikit-learn).
2. Switch rule (``--loop``): the labeling loop with logistic regression on 50 PCA components of
   the pixels as the learner (seconds per round instead of the SSVAE's minutes), the pixels'
   32 PCA components as TypiClust's representation; from one label per class, 10 per round,
   to 200 labels; arms random, margin (of the logistic regression), typiclust, and auto
   switching to margin at T labels per class for several T; 3 seeds; the bundled MNIST,
   Fashion-MNIST (10 000-image subsample) and the glyphs. Writes
   artifacts/benchmarks/strategy.json.

    python benchmarks/bench_strategy.py [--loop] [--datasets mnist,fashion-mnist:10000,glyphs]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from common import write_result

from ssvae.ranking import probability_scores, rank, reduce_features

SWITCHES = (1, 2, 3, 5, 10)


def speed() -> dict:
    rng = np.random.default_rng(0)
    out = {}
    rank({"margin": np.zeros(100, np.float32)}, "typiclust", 5, None,
         features=rng.normal(size=(100, 4)))  # warm-up: imports
    for d in (16, 32, 784):
        f = rng.normal(size=(60_000, d)).astype(np.float32)
        scores = {"margin": rng.random(60_000).astype(np.float32)}
        for labeled in (0, 200, 1000):
            mask = np.zeros(60_000, bool)
            mask[rng.choice(60_000, labeled, replace=False)] = True
            for phase, kw in (("typiclust", {}), ("margin", {"diverse": True})):
                times = []
                for _ in range(3):
                    t = time.perf_counter()
                    rank(scores, phase, 20, mask, features=f, **kw)
                    times.append(time.perf_counter() - t)
                key = f"d{d}_labeled{labeled}" + ("" if phase == "typiclust" else "_diverse_margin")
                out[key] = round(float(np.median(times)), 3)
                print(f"{phase}{' (diverse)' if kw else ''}, 60000 × {d}, {labeled} labeled: "
                      f"{np.median(times):.3f} s", flush=True)
    return out


def loop(spec: str, seeds=(0, 1, 2), budget: int = 200, step: int = 10) -> dict:
    from sklearn.linear_model import LogisticRegression

    from ssvae.data import load_dataset
    from ssvae.simulate import hold_out_test, initial_labels

    if spec in ("glyphs", "digits"):
        from ssvae.evaluate import built_dataset
        ds = built_dataset(spec)
    else:
        ds = load_dataset(spec)
    ds = hold_out_test(ds, 0.2) if not ds.has_test else ds
    k = ds.num_classes
    x = ds.images.reshape(ds.size, -1).astype(np.float32) / 255
    xt = ds.test_images.reshape(len(ds.test_images), -1).astype(np.float32) / 255
    from sklearn.decomposition import PCA
    pca = PCA(50, random_state=0).fit(x[:5000])
    z, zt = pca.transform(x), pca.transform(xt)
    rep = reduce_features(x)
    arms = {"random": None, "margin": 0, "typiclust": 10**9, **{f"auto@{t}": t for t in SWITCHES}}
    res: dict[str, dict[int, list[float]]] = {a: {} for a in arms}
    for seed in seeds:
        start = initial_labels(ds.truth, k, k, seed)
        for arm, switch in arms.items():
            labels = dict(start)
            while True:
                m = LogisticRegression(max_iter=1000).fit(z[list(labels)], list(labels.values()))
                res[arm].setdefault(len(labels), []).append(float((m.predict(zt) == ds.test_truth).mean()))
                if len(labels) >= budget:
                    break
                if switch is None:
                    strategy = "random"
                elif len(labels) < switch * k:
                    strategy = "typiclust"
                else:
                    strategy = "margin"
                probs = np.zeros((ds.size, k), np.float32)
                probs[:, m.classes_] = m.predict_proba(z)
                picks = rank(probability_scores(probs), strategy, step, list(labels),
                             features=rep, seed=seed)
                labels.update({int(s): int(ds.truth[s]) for s in picks})
        print(spec, {a: round(100 * float(np.mean(res[a][n])), 1) for a in arms for n in (budget,)},
              flush=True)
    return {a: {n: [round(float(np.mean(v)), 4), round(float(np.std(v, ddof=1)), 4)]
                for n, v in sorted(r.items())} for a, r in res.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loop", action="store_true", help="also run the switch-rule loop")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--datasets", default="mnist,fashion-mnist:10000,glyphs")
    args = ap.parse_args()
    result = {}
    if not args.no_speed:
        result["rank_seconds"] = speed()
    if args.loop:
        result["loop"] = {}
        for spec in args.datasets.split(","):
            result["loop"][spec] = loop(spec)
            for arm, v in result["loop"][spec].items():
                print(spec, arm, " ".join(f"{n}:{100 * m:.1f}" for n, (m, _) in v.items()
                                          if n in (10, 20, 30, 50, 100, 200)), flush=True)
    headline = {}
    if "rank_seconds" in result:
        headline["typiclust_60k_32d_200labeled_s"] = result["rank_seconds"]["d32_labeled200"]
    result["headline"] = headline
    write_result("strategy", result)


if __name__ == "__main__":
    main()
