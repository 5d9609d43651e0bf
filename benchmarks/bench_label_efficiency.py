"""Label efficiency: the active-learning simulation (``ssvae simulate``) on the bundled MNIST.

Default (the suite's small setting, a few minutes on 2 CPU cores): entropy, diverse and random
from 10 labels to 50, one seed. --quick: margin and random to 30 labels, a 20-epoch first
model. --full: auto, margin and random to 200 labels, 3 seeds, 5 epochs per round (about half an
hour on 2 CPU cores; docs/SIMULATION.md). Writes artifacts/benchmarks/label_efficiency.json and the
simulation's files under artifacts/simulations/bench-<setting>/.
"""
from __future__ import annotations

import argparse
import time

from common import write_result

from ssvae.config import load_config
from ssvae.data import load_dataset
from ssvae.paths import artifacts_root
from ssvae.simulate import SimulationSettings, run_simulation, settings_notes, summarize, write_outputs

SETTINGS = {
    "quick": SimulationSettings(strategies=("margin", "random"), budget=30, first_epochs=20, seeds=(0,)),
    "small": SimulationSettings(strategies=("entropy", "diverse", "random"), budget=50, seeds=(0,)),
    "full": SimulationSettings(budget=200, seeds=(0, 1, 2)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="margin and random to 30 labels")
    mode.add_argument("--full", action="store_true", help="budget 200, 3 seeds, auto/margin/random")
    ap.add_argument("--config", default="default")
    args = ap.parse_args()
    setting = "full" if args.full else "quick" if args.quick else "small"
    settings = SETTINGS[setting]
    cfg = load_config(args.config)
    ds = load_dataset("mnist")
    t0 = time.perf_counter()
    rows = run_simulation(cfg, ds, settings,
                          progress=lambda d, t, s: print(f"[{d}/{t}] {s}", flush=True))
    seconds = time.perf_counter() - t0
    folder = artifacts_root() / "simulations" / f"bench-{setting}"
    paths = write_outputs(rows, folder, "Label efficiency on the bundled MNIST",
                          settings_notes(settings, cfg, args.config, seconds))
    summary = summarize(rows)
    last = max(summary[settings.strategies[0]]["labels"])
    write_result("label_efficiency", {
        "setting": setting, "seconds": seconds,
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.__dict__.items()},
        "report": str(paths["report"]),
        "accuracy_at": {k: {str(n): v["mean"][n] for n in v["labels"]} for k, v in summary.items()},
        "labels_to_reach": {k: {str(t): v["reach"][t] for t in v["reach"]} for k, v in summary.items()},
        "headline": {"minutes": round(seconds / 60, 1),
                     **{f"{k}@{last}": round(v["mean"][last], 4) for k, v in summary.items()}},
    })


if __name__ == "__main__":
    main()
