"""Switching models in the page (issue 13): the server time and bytes from choosing another
model in the selector to the map, queue and panels of that model, through Flask's test client
(no browser, no network), on the bundled MNIST (5 000 images) with two models whose
predictions snapshots are synthetic but of the real shapes.

Usage: python benchmarks/bench_model_switch.py [--dataset SPEC] [--switches N] [--quick] [--trained]
Prints a table and writes artifacts/benchmarks/model_switch.json. ``--trained``: the two models
(default and mixture) are trained through the page's own commands by a real worker (100
ground-truth labels, the first model's step budget each), then switched back and forth; writes
model_switch_trained.json with each model's test accuracy.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import write_result  # noqa: E402  (puts the checkout on sys.path)
from bench_dashboard import synthetic_predictions  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.commands import CreateModel  # noqa: E402
from dashboard.headless import HeadlessPage  # noqa: E402
from dashboard.state import Workspace  # noqa: E402
from ssvae.data import load_dataset  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--switches", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="6 switches")
    ap.add_argument("--trained", action="store_true", help="models trained by a real worker")
    args = ap.parse_args(argv)
    if args.trained:
        return trained(args.dataset, 6 if args.quick else args.switches)
    n = 6 if args.quick else args.switches
    ds = load_dataset(args.dataset)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = Workspace(tmp / "ws")
        synthetic_predictions(ds, seed=0).save(ws.predictions)
        app = create_app(ds, tmp / "labels.csv", ws)
        assert app.ssvae.run(CreateModel(model="mix", config="mixture"))["ok"]
        synthetic_predictions(ds, seed=1).save(ws.models.folder("mix") / "predictions.npz")
        page = HeadlessPage(app)
        page.load()
        total_ms, action_ms, nbytes = [], [], []
        for i in range(n):
            action, ms = switch(page, "mix" if i % 2 == 0 else "default")
            total_ms.append(ms)
            action_ms.append(action.calls[0].seconds * 1000)
            nbytes.append(action.nbytes)
    out = {"dataset": ds.name, "points": ds.size, "switches": n,
           "predictions": "synthetic, real shapes",
           "switch_total_ms_median": round(float(np.median(total_ms)), 1),
           "switch_total_ms_max": round(float(np.max(total_ms)), 1),
           "select_command_ms_median": round(float(np.median(action_ms)), 1),
           "bytes_median": int(np.median(nbytes))}
    print(f"{ds.name}, {ds.size} points, {n} switches: the switch and every panel it redraws "
          f"{out['switch_total_ms_median']} ms median ({out['switch_total_ms_max']} ms max), the "
          f"select command alone {out['select_command_ms_median']} ms, {out['bytes_median'] / 1e6:.2f} MB")
    write_result("model_switch", out)
    return 0


def switch(page, name: str):
    """Select model ``name`` in the page as a click does; the action and its wall time (ms)
    for the switch and every panel it redraws."""
    t0 = time.perf_counter()
    action = page.trigger("models-select.value", name, output_part="result")
    ms = (time.perf_counter() - t0) * 1000
    assert action.result["ok"], action.result
    assert any("map.figure" in c.output and c.status == 200 for c in action.calls)
    return action, ms


def trained(spec: str, n: int) -> int:
    from dashboard.commands import Label, SelectModel, StartTraining
    from dashboard.headless import wait_until
    from dashboard.worker.service import TrainingService
    from ssvae.config import load_config
    from ssvae.schedule import epochs_for

    ds = load_dataset(spec)
    rng = np.random.default_rng(0)
    labels = {int(s): int(ds.truth[s]) for s in rng.choice(ds.size, 100, replace=False)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = Workspace(tmp / "ws")
        cfg = load_config("default")
        worker = TrainingService(ws.root, cfg.model_dump(mode="json"))
        try:
            app = create_app(ds, tmp / "labels.csv", ws, worker=worker)
            run = app.ssvae.run

            def train(model: str) -> float:
                wait_until(lambda: not worker.busy(), 900, what="the worker to be idle", interval=0.5)
                before = len(worker.channel.runs())
                started = run(StartTraining(epochs=epochs_for(ds.size, cfg), settings={}))
                assert started["ok"], started["message"]
                wait_until(lambda: len(worker.channel.runs()) > before and not worker.busy(), 1800,
                           what=f"model {model}'s run", interval=0.5)
                return worker.channel.runs()[-1].get("test_accuracy")

            wait_until(lambda: not worker.busy(), 900, what="the first map and model", interval=0.5)
            for s, c in labels.items():
                assert run(Label(s, c))["ok"]
            acc = {"default": train("default")}
            assert run(CreateModel(model="mix", config="mixture"))["ok"]
            assert run(SelectModel(model="mix"))["ok"]
            acc["mix"] = train("mix")
            page = HeadlessPage(app)
            page.load()
            total_ms = []
            for i in range(n):
                total_ms.append(switch(page, "default" if i % 2 == 0 else "mix")[1])
                wait_until(lambda: not worker.busy(), 60, what="the worker to load", interval=0.05)
        finally:
            worker.shutdown()
    out = {"dataset": ds.name, "points": ds.size, "labels": len(labels), "switches": n,
           "test_accuracy": acc, "switch_total_ms_median": round(float(np.median(total_ms)), 1),
           "switch_total_ms_max": round(float(np.max(total_ms)), 1)}
    print(out)
    write_result("model_switch_trained", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
