"""Shared by the benchmark scripts: where results go, what machine measured them."""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ssvae.paths import artifacts_root  # noqa: E402


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as fh:
            info["memory_gib"] = round(int(fh.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    return info


def write_result(name: str, result: dict) -> Path:
    """Print ``result`` and write it to artifacts/benchmarks/<name>.json with the machine."""
    out = artifacts_root() / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    payload = {"benchmark": name, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
               "machine": machine(), **result}
    path.write_text(json.dumps(payload, indent=2, default=float))
    print(json.dumps(result, indent=2, default=float))
    print(f"wrote {path}")
    return path


def percentile(values, q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))
