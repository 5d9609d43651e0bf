"""Helpers of the model benchmarks: the shared result writer when present, and label sets."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

try:  # the suite's writer (benchmarks/common.py) records the machine as well
    from common import write_result  # type: ignore  # noqa: E402
except ImportError:  # pragma: no cover - stand-alone use of this branch
    import os
    import platform

    from ssvae.paths import artifacts_root

    def write_result(name: str, result: dict) -> Path:
        out = artifacts_root() / "benchmarks"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{name}.json"
        payload = {"benchmark": name, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                   "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, **result}
        path.write_text(json.dumps(payload, indent=2, default=float))
        print(json.dumps(result, indent=2, default=float))
        print(f"wrote {path}")
        return path


def per_class_labels(truth: np.ndarray, per_class: int, seed: int) -> dict[int, int]:
    """``per_class`` labels of every class, drawn with a fixed seed (the accuracy target's split)."""
    rng = np.random.default_rng(seed)
    out: dict[int, int] = {}
    for c in np.unique(truth):
        for s in rng.choice(np.flatnonzero(truth == c), per_class, replace=False):
            out[int(s)] = int(c)
    return out
