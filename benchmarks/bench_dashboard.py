"""Dashboard benchmark: JSON sizes and server times with 5 000 and 60 000 points (Fashion-MNIST).

Drives the real callbacks through Flask's test client (``dashboard.headless.HeadlessPage``), so
the bytes counted are the bodies of the /_dash-update-component responses a browser would get,
and the times are the server's time per request (no network). Until the model branch writes
real predictions, the snapshot is synthetic with the real shapes (60 000 × 10 probabilities,
16-D latent, 2-D map, 28×28 reconstructions); sizes and times do not depend on its values.

    python benchmarks/bench_dashboard.py [--dataset fashion-mnist] [--points 5000,60000]
                                         [--actions 200] [--quick]

Prints a table and writes artifacts/benchmarks/dashboard.json (run_all.py picks it up).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.app import create_app  # noqa: E402
from dashboard.commands import SetColorBy  # noqa: E402
from dashboard.state import LabelDigest  # noqa: E402
from dashboard.headless import HeadlessPage  # noqa: E402
from ssvae.data import Dataset, load_dataset  # noqa: E402
from ssvae.paths import artifacts_root  # noqa: E402
from ssvae.predictions import Predictions  # noqa: E402
from ssvae.ranking import probability_scores  # noqa: E402


def synthetic_predictions(ds, seed=0) -> Predictions:
    rng = np.random.default_rng(seed)
    n, k = ds.size, ds.num_classes
    logits = rng.normal(size=(n, k)).astype(np.float32)
    logits[np.arange(n), ds.truth] += 3.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    angle = ds.truth * (2 * np.pi / k) + rng.normal(size=n) * 0.3
    radius = 3 + rng.normal(size=n) * 0.7
    map2d = np.stack([np.cos(angle) * radius, np.sin(angle) * radius], 1).astype(np.float32)
    scores = probability_scores(probs)
    scores["bald"] = (scores["entropy"] * rng.random(n)).astype(np.float32)
    return Predictions(latent=rng.normal(size=(n, 16)).astype(np.float32), map2d=map2d,
                       probs=probs.astype(np.float32), recon=ds.images.copy(), scores=scores,
                       meta={"epoch": 1, "synthetic": True})


def save(out: dict) -> Path:
    """Through the shared harness (benchmarks/common.py) where it exists, else directly."""
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from common import write_result
    except ImportError:
        dest = artifacts_root() / "benchmarks" / "dashboard.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(out, indent=2) + "\n")
        return dest
    return write_result("dashboard", out)


def pct(values, q):
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def label_run(page, app, n_actions, rng, k):
    """Label ``n_actions`` images with digit keys, as a user does (auto-advance on)."""
    chain_ms, action_ms, nbytes, biggest = [], [], [], 0
    for _ in range(n_actions):
        a = page.trigger("key-event.data", {"key": str(int(rng.integers(0, k)))})
        assert a.result and a.result["ok"], a.result
        chain_ms.append(a.seconds * 1000)
        action_ms.append(a.calls[0].seconds * 1000)
        nbytes.append(a.nbytes)
        biggest = max(biggest, max(c.nbytes for c in a.calls))
    return chain_ms, action_ms, nbytes, biggest


def subset(ds, n: int):
    """The first ``n`` images of ``ds`` as a data set of its own (a smaller page to measure)."""
    if n >= ds.size:
        return ds
    return Dataset(name=f"{ds.name}-{n}", images=ds.images[:n], class_names=ds.class_names,
                   source=ds.source, truth=None if ds.truth is None else ds.truth[:n])


def measure(ds, args) -> dict:
    """Payload sizes and server times of one page with ``ds.size`` points."""
    rng = np.random.default_rng(0)
    out: dict = {"dataset": ds.name, "points": ds.size, "classes": ds.num_classes,
                 "python": platform.python_version(), "machine": platform.machine(),
                 "predictions": "synthetic, real shapes"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = tmp / "ws"
        ws.mkdir()
        synthetic_predictions(ds).save(ws / "predictions.npz")
        t0 = time.perf_counter()
        app = create_app(ds, tmp / "labels.csv", ws)
        out["app_start_s"] = round(time.perf_counter() - t0, 3)

        page = HeadlessPage(app)
        load = page.load()
        m = next(c for c in load.calls if "map.figure" in c.output)
        out["initial_map_json_bytes"] = m.nbytes
        out["initial_map_server_ms"] = round(m.seconds * 1000, 1)
        out["initial_page_callbacks_bytes"] = load.nbytes
        out["layout_bytes"] = len(page.client.get("/_dash-layout").get_data())
        per_mode = {}
        for mode in ("label", "predicted", "uncertainty", "truth"):  # a page opened in each colouring
            app.ssvae.dispatcher.dispatch(SetColorBy(mode))
            fresh = HeadlessPage(app).load()
            per_mode[mode] = next(c for c in fresh.calls if "map.figure" in c.output).nbytes
        app.ssvae.dispatcher.dispatch(SetColorBy("label"))
        out["initial_map_json_bytes_by_colouring"] = per_mode
        out["initial_map_json_bytes_max"] = max(per_mode.values())

        # select: click points on the map
        sel_bytes, sel_ms = [], []
        for s in rng.integers(0, ds.size, size=50):
            a = page.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": int(s)}]})
            sel_bytes.append(a.nbytes)
            sel_ms.append(a.seconds * 1000)
        out["select"] = {"actions": len(sel_ms), "bytes_max": max(sel_bytes),
                         "bytes_median": int(np.median(sel_bytes)),
                         "server_ms_p50": round(pct(sel_ms, 50), 2), "server_ms_p95": round(pct(sel_ms, 95), 2)}

        chain, action, nbytes, biggest = label_run(page, app, args.actions, rng, ds.num_classes)
        out["label_from_empty"] = {
            "actions": len(chain), "labels_at_end": len(app.ssvae.state.labels),
            "bytes_max": max(nbytes), "bytes_median": int(np.median(nbytes)),
            "largest_single_response_bytes": biggest,
            "action_callback_ms_p50": round(pct(action, 50), 2),
            "action_callback_ms_p95": round(pct(action, 95), 2),
            "whole_chain_ms_p50": round(pct(chain, 50), 2),
            "whole_chain_ms_p95": round(pct(chain, 95), 2)}

        # many labels already: labels.csv rewrite and the overlay grow with the label count
        preload = min(args.preload, ds.size // 2)
        have = app.ssvae.state.labels.as_dict()
        extra = rng.choice(np.setdiff1d(np.arange(ds.size), list(have)), max(0, preload - len(have)),
                           replace=False)
        have.update({int(s): int(rng.integers(0, ds.num_classes)) for s in extra})
        app.ssvae.state.labels.replace_all(have)
        app.ssvae.state.digest = LabelDigest(have)
        app.ssvae.state.bump("labels")
        page.tick()
        chain, action, nbytes, biggest = label_run(page, app, max(50, args.actions // 2), rng, ds.num_classes)
        out["label_with_preloaded"] = {
            "labels_before": preload, "actions": len(chain),
            "bytes_max": max(nbytes), "bytes_median": int(np.median(nbytes)),
            "largest_single_response_bytes": biggest,
            "action_callback_ms_p50": round(pct(action, 50), 2),
            "action_callback_ms_p95": round(pct(action, 95), 2),
            "whole_chain_ms_p50": round(pct(chain, 50), 2),
            "whole_chain_ms_p95": round(pct(chain, 95), 2)}

        # the atomic labels.csv rewrite alone (temp file, fsync, rename, fsync of the folder)
        write_ms = {}
        store = app.ssvae.state.labels
        for count in sorted({200, min(10_000, ds.size), ds.size}):
            labels = {int(s): int(rng.integers(0, ds.num_classes))
                      for s in rng.choice(ds.size, count, replace=False)}
            times = []
            for _ in range(15):
                t0 = time.perf_counter()
                store.replace_all(labels)
                times.append((time.perf_counter() - t0) * 1000)
            write_ms[count] = round(float(np.median(times)), 2)
        out["labels_csv_rewrite_ms_median_by_labels"] = write_ms

        # colour-by change is not a select/label action but shows the Patch path
        a = page.trigger("color-by.value", "uncertainty")
        out["color_by_uncertainty_bytes"] = a.nbytes

    targets = {"initial_map_json_bytes": 1_500_000, "action_bytes": 150_000, "label_p95_ms": 50}
    out["targets"] = targets
    worst_bytes = max(out["select"]["bytes_max"], out["label_from_empty"]["bytes_max"],
                      out["label_with_preloaded"]["bytes_max"])
    out["worst_action_bytes"] = worst_bytes
    out["label_p95_ms"] = max(out["label_from_empty"]["whole_chain_ms_p95"],
                              out["label_with_preloaded"]["whole_chain_ms_p95"])
    out["meets"] = {
        "initial_map": out["initial_map_json_bytes_max"] <= targets["initial_map_json_bytes"],
        "action_bytes": worst_bytes <= targets["action_bytes"],
        "label_p95": out["label_p95_ms"] <= targets["label_p95_ms"],
    }
    return out


def report(out: dict) -> None:
    lf, lp, s = out["label_from_empty"], out["label_with_preloaded"], out["select"]
    print(f"dashboard benchmark — {out['dataset']}, {out['points']:,} points ({out['predictions']})")
    by = ", ".join(f"{k} {v / 1e6:.2f}" for k, v in out["initial_map_json_bytes_by_colouring"].items())
    print(f"  initial map JSON          {out['initial_map_json_bytes_max'] / 1e6:8.3f} MB   (target ≤ 1.5 MB; "
          f"by colouring: {by} MB)")
    print(f"  select action, max        {s['bytes_max'] / 1e3:8.1f} KB   p95 {s['server_ms_p95']:.1f} ms")
    print(f"  label action, max         {lf['bytes_max'] / 1e3:8.1f} KB   (target ≤ 150 KB)")
    print(f"  label p95, 0→{lf['labels_at_end']} labels   {lf['whole_chain_ms_p95']:8.1f} ms   "
          f"(action callback alone {lf['action_callback_ms_p95']:.1f} ms; target ≤ 50 ms)")
    print(f"  label p95, {lp['labels_before']:,}+ labels  {lp['whole_chain_ms_p95']:8.1f} ms   "
          f"(action callback alone {lp['action_callback_ms_p95']:.1f} ms), max {lp['bytes_max'] / 1e3:.1f} KB")
    print("  labels.csv atomic rewrite " + ", ".join(
        f"{k:,} labels {v:.1f} ms" for k, v in out["labels_csv_rewrite_ms_median_by_labels"].items()))
    print(f"  meets targets: {out['meets']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--points", default="5000,60000",
                    help="page sizes to measure: the first N images of the data set, comma-separated")
    ap.add_argument("--actions", type=int, default=200)
    ap.add_argument("--preload", type=int, default=10_000,
                    help="labels already present for the second label run (at most half the points)")
    ap.add_argument("--quick", action="store_true", help="fewer label actions (60)")
    args = ap.parse_args(argv)
    if args.quick:
        args.actions = min(args.actions, 60)

    full = load_dataset(args.dataset)
    sizes = sorted({min(int(p), full.size) for p in args.points.split(",") if p.strip()})
    by_points = {}
    for n in sizes:
        out = measure(subset(full, n), args)
        report(out)
        by_points[str(n)] = out
    largest = by_points[str(sizes[-1])]
    result = {"dataset": full.name, "points": sizes, "actions": args.actions, "by_points": by_points,
              # the page with the most points, at the top level as before
              **{k: v for k, v in largest.items() if k not in ("dataset", "points")}}
    result["headline"] = {
        **{f"initial_map_MB@{n}": round(by_points[str(n)]["initial_map_json_bytes_max"] / 1e6, 3)
           for n in sizes},
        **{f"label_p95_ms@{n}": by_points[str(n)]["label_p95_ms"] for n in sizes},
        "action_KB_max": round(max(o["worst_action_bytes"] for o in by_points.values()) / 1e3, 1),
    }
    save(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
