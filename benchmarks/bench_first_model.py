"""Speed of the first model at real size: time per training step on the 60 000-image
Fashion-MNIST pool for model variants, measured interleaved in one process (the cores are
shared, so the ratio to the baseline is the figure to trust), and the projected time of the
first model under a step budget (ssvae/schedule.py).

usage: python benchmarks/bench_first_model.py [--steps 60] [--rounds 2] [--budget 600]
       [--variants default,dense,top2,expect]
       python benchmarks/bench_first_model.py --end-to-end [--labels 200] [--config dense] [--map-now]
Writes artifacts/benchmarks/first_model.json; ``--end-to-end`` trains the first model the page
trains, as the page's worker does (the default config's step budget; the map of the images
drawn first, untimed, as the page has it before any model; then ssvae.pipeline.train_and_publish
with ``map_kind="later"``: training, checkpoint, predictions on the map of the images; then
ssvae.pipeline.publish_map: the model's UMAP map) and writes first_model_end_to_end[_CONFIG].json
with the wall time of each part, the test accuracy and the load average; ``--config`` times
another shipped config the same way, ``--map-now`` the map drawn before the predictions are
written (one step, as until 2026-12-04; ``…_map_now.json``). Run them back to back: the cores
are shared.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from model_common import per_class_labels, write_result

#: name -> (shipped config, overrides)
VARIANTS = {
    "default": ("default", {}),  # a conv classifier with classification weight 10 since 2026-12-04
    "dense": ("dense", {}),  # the default until 2026-12-04
    # the classifier's convolutions at stride 1, each with a 2×2 max-pool, 16 / 32 channels
    "conv_pool": ("default", {"model.classifier": "conv_pool", "model.conv_features": [16, 32]}),
    "top3": ("default", {"train.unlabeled": "top3"}),
    "top2": ("default", {"train.unlabeled": "top2"}),
    "expect": ("default", {"train.unlabeled": "expect"}),
    "dense_top2": ("dense", {"train.unlabeled": "top2"}),
    "fixmatch": ("default", {"train.consistency_weight": 30.0, "train.ema_decay": 0.99}),
    "fixmatch_top2": ("default", {"train.consistency_weight": 30.0, "train.ema_decay": 0.99,
                                  "train.unlabeled": "top2"}),
}


def time_steps(trainer, labels, steps: int) -> float:
    """Seconds per step between the first progress event and the ``steps``-th step (the
    compile and the first steps excluded); the unfinished epoch is discarded by the stop."""
    marks: list[tuple[int, float]] = []

    def on_progress(ev):
        if ev["event"] == "step":
            marks.append((ev["run_step"], time.perf_counter()))

    trainer.train_epochs(1, labels, on_progress=on_progress,
                         should_stop=lambda: bool(marks) and marks[-1][0] >= steps)
    (s0, t0), (s1, t1) = marks[0], marks[-1]
    return (t1 - t0) / (s1 - s0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--budget", type=int, default=600, help="first-model step budget to project")
    ap.add_argument("--variants", default="default,dense,top2,expect")
    ap.add_argument("--end-to-end", action="store_true")
    ap.add_argument("--labels", type=int, default=200, help="--end-to-end: class-balanced labels")
    ap.add_argument("--config", default="default", help="--end-to-end: the shipped config")
    ap.add_argument("--map-now", action="store_true",
                    help="--end-to-end: draw the map before writing the predictions (one step, "
                         "as before 2026-12-04), for the comparison")
    args = ap.parse_args()
    if args.end_to_end:
        return end_to_end(args.dataset, args.labels, args.config, args.map_now)

    from ssvae.config import load_config
    from ssvae.data import load_dataset
    from ssvae.schedule import epochs_for, steps_per_epoch
    from ssvae.train import Trainer

    ds = load_dataset(args.dataset)
    labels = per_class_labels(ds.truth, 20, 0)
    names = args.variants.split(",")
    trainers, per_step = {}, {n: [] for n in names}
    for name in names:
        config, overrides = VARIANTS[name]
        cfg = load_config(config, {**overrides, "train.progress_every": 10,
                                   "train.first_model_steps": args.budget})
        trainers[name] = Trainer(cfg, ds)
    for r in range(args.rounds):
        for name in names:
            per_step[name].append(time_steps(trainers[name], labels, args.steps))
            print(f"round {r} {name}: {per_step[name][-1] * 1000:.0f} ms/step", flush=True)
    cfg = trainers[names[0]].config
    spe = steps_per_epoch(ds.size, cfg)
    epochs = epochs_for(ds.size, cfg)
    base = statistics.median(per_step[names[0]])
    rows = {}
    for name in names:
        ms = statistics.median(per_step[name])
        rows[name] = {"ms_per_step": round(ms * 1000, 1), "ratio_to_" + names[0]: round(ms / base, 3),
                      "epoch_s": round(ms * spe, 1),
                      "first_model_s_projected": round(ms * spe * epochs, 1),
                      "all": [round(v * 1000, 1) for v in per_step[name]]}
    write_result("first_model", {
        "dataset": args.dataset, "pool": ds.size, "steps_per_epoch": spe,
        "step_budget": args.budget, "first_model_epochs": epochs,
        "load_average": list(np.round(__import__("os").getloadavg(), 2)), "variants": rows,
        "note": "steps timed after the first progress event, median over interleaved rounds; "
                "projected time excludes start-up and the per-epoch evaluation",
    })


def end_to_end(dataset: str, n_labels: int, config: str, map_now: bool = False) -> None:
    import os
    import tempfile
    from pathlib import Path

    from ssvae.config import load_config
    from ssvae.data import load_dataset
    from ssvae.predictions import images_snapshot
    from ssvae.pipeline import publish_map, train_and_publish
    from ssvae.schedule import epochs_for, steps_per_epoch
    from ssvae.train import Trainer

    t0 = time.perf_counter()
    ds = load_dataset(dataset)
    cfg = load_config(config)
    labels = per_class_labels(ds.truth, n_labels // ds.num_classes, 0)
    epochs = epochs_for(ds.size, cfg)
    t_load = time.perf_counter() - t0
    t_images = time.perf_counter()  # what the page shows before any model: not counted
    image_map = images_snapshot(ds.images, seed=cfg.train.seed, meta={"dataset": ds.name})
    t_images = time.perf_counter() - t_images
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()  # as the page's worker: the predictions, then their map
        trainer = Trainer(cfg, ds)
        out = train_and_publish(trainer, epochs, labels, checkpoint=Path(tmp) / "checkpoint",
                                predictions=Path(tmp) / "predictions.npz", previous=image_map,
                                map_kind="umap" if map_now else "later")
        t_model = time.perf_counter()
        publish_map(trainer, out.predictions, Path(tmp) / "predictions.npz")
        t2 = time.perf_counter()
    history = out.result["history"]
    train_s = sum(h.get("seconds", 0.0) for h in history)
    name = "first_model_end_to_end" + ("" if config == "default" else f"_{config}")
    write_result(name + ("_map_now" if map_now else ""), {
        "config": config, "map": "in one step" if map_now else "in a second step",
        "dataset": dataset, "pool": ds.size, "labels": len(labels),
        "epochs": epochs,
        "steps": epochs * steps_per_epoch(ds.size, cfg),
        "image_map_s": round(t_images, 1), "data_load_s": round(t_load, 1),
        "model_published_s": round(t_load + t_model - t1, 1), "map_s": round(t2 - t_model, 1),
        "train_and_publish_s": round(t2 - t1, 1),
        "epochs_s": round(train_s, 1), "epoch_seconds": [round(h.get("seconds", 0.0), 1) for h in history],
        "total_s": round(t_load + t2 - t1, 1), "test_accuracy": history[-1].get("test_accuracy"),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "note": "model_published_s: the data, then from the trainer's creation to the first "
                "model's predictions on disk (compile, training, per-epoch evaluation, "
                "checkpoint, predictions on the map of the images), what the page shows first; "
                "map_s: then its UMAP map, written in a second step; total_s: both; "
                "image_map_s: the map of the images before any model (not counted: the page "
                "has it from the start, and it compiled UMAP in this process)",
    })


if __name__ == "__main__":
    main()
