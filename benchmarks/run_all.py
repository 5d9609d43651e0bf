"""Run every benchmark, then print one table of the headline figures.

Each bench_*.py prints its results and writes artifacts/benchmarks/<name>.json.
Usage: python benchmarks/run_all.py [--only NAME,…] [--full]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import artifacts_root, machine  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default=None, help="comma-separated benchmark names")
    ap.add_argument("--full", action="store_true", help="pass --full to those that have it")
    args = ap.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = set(args.only.split(","))
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    failures = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        cmd = [sys.executable, str(script)]
        if args.full and "--full" in script.read_text():
            cmd.append("--full")
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        print(f"--- {script.stem}: exit {rc} in {time.perf_counter() - t0:.0f} s")
        if rc:
            failures.append(script.stem)
    results = {}
    for path in sorted((artifacts_root() / "benchmarks").glob("*.json")):
        if path.stem == "summary":
            continue
        results[path.stem] = json.loads(path.read_text())
    summary = {"machine": machine(), "results": {k: {kk: vv for kk, vv in v.items()
                                                     if kk not in ("machine",)}
                                                 for k, v in results.items()}}
    out = artifacts_root() / "benchmarks" / "summary.json"
    out.write_text(json.dumps(summary, indent=2, default=float))
    print("\n| benchmark | headline |\n|---|---|")
    for name, r in results.items():
        head = r.get("headline") or {k: v for k, v in r.items()
                                     if isinstance(v, (int, float)) and not isinstance(v, bool)}
        print(f"| {name} | " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                         for k, v in head.items()) + " |")
    print(f"\nwrote {out}")
    if failures:
        print(f"failed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
