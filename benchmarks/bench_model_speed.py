"""Speed targets of the model core, measured on this machine:

1. an epoch of ``Trainer.train_epochs`` against a minimal hand-written JAX loop of the same
   network, batch size and data (same process, interleaved; ratio ≤ 1.15);
2. ``predict`` on the 60 000 Fashion-MNIST images with the dense model (≤ 2 s);
3. the first training step after start-up, compilation included (≤ 3 s): in a fresh process
   with an empty compilation cache (cold) and again with the cache the first run left (warm).

usage: python benchmarks/bench_model_speed.py [--config default] [--rounds 4] [--skip-predict]
Writes artifacts/benchmarks/model_speed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from model_common import ROOT, per_class_labels, write_result

FIRST_STEP = r"""
import time; t_proc = time.perf_counter()
import json, sys
from ssvae.config import load_config
from ssvae.data import load_dataset
from ssvae.train import Trainer
ds = load_dataset("mnist")
cfg = load_config(sys.argv[1], {"train.progress_every": 1})
labels = {i: int(ds.truth[i]) for i in range(0, ds.size, 40)}
t_init = time.perf_counter()
tr = Trainer(cfg, ds)
t_call = time.perf_counter()
seen = {}
def on_progress(ev):
    if "first" not in seen:
        seen["first"] = time.perf_counter()
tr.train_epochs(1, labels, on_progress=on_progress, should_stop=lambda: "first" in seen)
print(json.dumps({"from_process_start": seen["first"] - t_proc,
                  "from_trainer_init": seen["first"] - t_init,
                  "from_train_call": seen["first"] - t_call}))
"""


def first_step(config: str) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SSVAE_JAX_CACHE=cache)
        for which in ("cold", "warm"):
            r = subprocess.run([sys.executable, "-c", FIRST_STEP, config], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)
            out[which] = json.loads(r.stdout.strip().splitlines()[-1])
            print(f"first step ({which} compilation cache): "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in out[which].items()), flush=True)
    return out


def epoch_ratio(config: str, rounds: int) -> dict:
    import jax
    import numpy as np
    import optax

    from ssvae.config import load_config
    from ssvae.data import load_dataset
    from ssvae.objective import HYPER_KEYS, loss_fn
    from ssvae.core import hyper_of, make_optimizer, member, static_of
    from ssvae.train import Trainer

    ds = load_dataset("mnist")
    cfg = load_config(config)
    t = cfg.train
    labels = per_class_labels(ds.truth, 10, 0)
    trainer = Trainer(cfg, ds)

    # -- the minimal hand-written loop: same model, loss, optimizer, batch sizes, data --------
    model, st = trainer.model, static_of(cfg, ds.size)
    tx = make_optimizer(t.grad_clip)
    steps = trainer.steps_per_epoch()
    hp = hyper_of(t, steps, trainer.train_idx.size, cfg.model.dirichlet_alpha)
    hp = {k: hp[k] for k in HYPER_KEYS}
    images = ds.images
    lab_idx = np.fromiter(labels.keys(), dtype=np.int64)
    lab_val = np.fromiter(labels.values(), dtype=np.int32)
    train_idx = trainer.train_idx

    @jax.jit
    def bare_step(params, opt_state, step, xu, xl, yl, key):
        (loss, _), g = jax.value_and_grad(loss_fn, has_aux=True)(
            params, model, xu, xl, yl, 1.0, key, step, hp, st)
        updates, opt_state = tx.update(g, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    params = member(trainer.state.params, 0)  # the bare loop trains one model
    opt_state = tx.init(params)
    key = jax.random.PRNGKey(0)
    bare_state = {"params": params, "opt": opt_state, "step": 0}

    def bare_epoch(epoch: int) -> float:
        t0 = time.perf_counter()
        rng = np.random.default_rng(epoch)
        perm = rng.permutation(train_idx)
        p, o, s = bare_state["params"], bare_state["opt"], bare_state["step"]
        for i in range(steps):
            u = perm[i * t.batch_size:(i + 1) * t.batch_size]
            if u.size < t.batch_size:
                u = np.concatenate([u, perm[: t.batch_size - u.size]])
            j = rng.integers(0, lab_idx.size, t.labeled_batch_size)
            p, o, loss = bare_step(p, o, s, images[u], images[lab_idx[j]], lab_val[j],
                                   jax.random.fold_in(key, s))
            s += 1
        jax.block_until_ready(p)
        bare_state.update(params=p, opt=o, step=s)
        return time.perf_counter() - t0

    def trainer_epoch() -> float:
        t0 = time.perf_counter()
        trainer.train_epochs(1, labels)
        jax.block_until_ready(trainer.state.params)
        return time.perf_counter() - t0

    warm_t, warm_b = trainer_epoch(), bare_epoch(0)  # compile both
    tt, bt = [], []
    for r in range(rounds):
        tt.append(trainer_epoch())
        bt.append(bare_epoch(r + 1))
        print(f"round {r + 1}: trainer epoch {tt[-1]:.3f} s, bare loop epoch {bt[-1]:.3f} s", flush=True)
    ratios = [a / b for a, b in zip(tt, bt)]
    return {"steps_per_epoch": steps, "batch_size": t.batch_size,
            "labeled_batch_size": t.labeled_batch_size,
            "first_epoch_with_compile": {"trainer": warm_t, "bare": warm_b},
            "trainer_epoch_s": tt, "bare_epoch_s": bt,
            "median_trainer_epoch_s": statistics.median(tt), "median_bare_epoch_s": statistics.median(bt),
            "ratio_of_medians": statistics.median(tt) / statistics.median(bt),
            "median_ratio": statistics.median(ratios),
            "note": "the trainer epoch includes its per-epoch validation and test-accuracy pass "
                    "and the EMA update; the bare loop does neither"}


def predict_speed(config: str) -> dict:
    import jax

    from ssvae.config import load_config
    from ssvae.data import load_dataset
    from ssvae.train import Trainer

    ds = load_dataset("fashion-mnist")
    cfg = load_config(config, {"model.encoder": "dense"})
    trainer = Trainer(cfg, ds)
    t0 = time.perf_counter()
    trainer.predict()
    first = time.perf_counter() - t0
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        p = trainer.predict()
        times.append(time.perf_counter() - t0)
    print(f"predict {ds.size} images: first (with compile) {first:.2f} s, then "
          + ", ".join(f"{x:.2f}" for x in times) + " s", flush=True)
    return {"images": ds.size, "first_call_s": first, "warm_calls_s": times,
            "median_s": statistics.median(times), "mc_samples": cfg.train.mc_samples,
            "outputs": ["latent", "map2d", "probs", "recon uint8", "entropy", "margin",
                        "least_confidence", "bald"], "recon_shape": list(p.recon.shape)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="default")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--skip-predict", action="store_true")
    ap.add_argument("--skip-first-step", action="store_true")
    ap.add_argument("--quick", action="store_true", help="2 timed epoch pairs instead of --rounds")
    args = ap.parse_args()
    if args.quick:
        args.rounds = min(args.rounds, 2)
    result = {"config": args.config}
    if not args.skip_first_step:
        result["first_step"] = first_step(args.config)
    result["epoch"] = epoch_ratio(args.config, args.rounds)
    print(f"trainer / bare loop epoch time: {result['epoch']['ratio_of_medians']:.3f}", flush=True)
    if not args.skip_predict:
        result["predict"] = predict_speed(args.config)
    result["targets"] = {
        "epoch_ratio<=1.15": result["epoch"]["ratio_of_medians"] <= 1.15,
        "predict_60k<=2s": result.get("predict", {}).get("median_s", 99) <= 2.0,
        "first_step<=3s (warm cache, from train call)":
            result.get("first_step", {}).get("warm", {}).get("from_train_call", 99) <= 3.0,
        "first_step<=3s (cold, from train call)":
            result.get("first_step", {}).get("cold", {}).get("from_train_call", 99) <= 3.0,
    }
    result["headline"] = {
        "trainer/bare_epoch": round(result["epoch"]["ratio_of_medians"], 3),
        "epoch_s": round(result["epoch"]["median_trainer_epoch_s"], 3),
        **({"predict_60k_s": round(result["predict"]["median_s"], 3)} if "predict" in result else {}),
        **({"first_step_warm_s": round(result["first_step"]["warm"]["from_train_call"], 2),
            "first_step_cold_s": round(result["first_step"]["cold"]["from_train_call"], 2)}
           if "first_step" in result else {}),
    }
    write_result("model_speed", result)


if __name__ == "__main__":
    main()
