"""Run every benchmark, then print one table of the headline figures.

Every ``benchmarks/bench_*.py`` is run in its own process, one after the other (a new one is
picked up by its file name). Each prints its results and writes
artifacts/benchmarks/<name>.json; this script then writes artifacts/benchmarks/summary.json
(every result of this run, with the machine) and summary.md (the table it prints).

Usage: python benchmarks/run_all.py [--only NAME,…] [--skip NAME,…] [--quick | --full]
  --quick  pass --quick to the benchmarks that have it (smaller settings, a few minutes in all)
  --full   pass --full to those that have it (the label-efficiency simulation in full: ~1 h on 2 CPU cores)
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


def benchmark_scripts(only: str | None = None, skip: str | None = None) -> list[Path]:
    scripts = sorted(HERE.glob("bench_*.py"))
    names = {s.stem.removeprefix("bench_") for s in scripts}
    for given in (only, skip):
        unknown = set((given or "").split(",")) - names - {""}
        if unknown:
            raise SystemExit(f"run_all: unknown benchmark {', '.join(sorted(unknown))}; "
                             f"there are: {', '.join(sorted(names))}.")
    if only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in only.split(",")]
    if skip:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") not in skip.split(",")]
    return scripts


def headline(result: dict) -> dict:
    return result.get("headline") or {k: v for k, v in result.items()
                                      if isinstance(v, (int, float)) and not isinstance(v, bool)}


def fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="comma-separated benchmark names (e.g. dashboard,model_speed)")
    ap.add_argument("--skip", default=None, help="comma-separated benchmark names to leave out")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="pass --quick to those that have it")
    mode.add_argument("--full", action="store_true", help="pass --full to those that have it")
    args = ap.parse_args()
    scripts = benchmark_scripts(args.only, args.skip)
    flag = "--quick" if args.quick else "--full" if args.full else None
    started = time.time()
    failures, ran = [], []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        cmd = [sys.executable, str(script)]
        if flag and flag in script.read_text():
            cmd.append(flag)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        seconds = time.perf_counter() - t0
        print(f"--- {script.stem}: exit {rc} in {seconds:.0f} s", flush=True)
        ran.append({"script": script.name, "exit": rc, "seconds": round(seconds, 1),
                    "args": cmd[2:]})
        if rc:
            failures.append(script.stem)
    # the results this run wrote (a benchmark may write several files, or none if it failed)
    results = {}
    for path in sorted((artifacts_root() / "benchmarks").glob("*.json")):
        if path.stem != "summary" and path.stat().st_mtime >= started:
            results[path.stem] = json.loads(path.read_text())
    summary = {"machine": machine(), "mode": flag or "default", "ran": ran,
               "results": {k: {kk: vv for kk, vv in v.items() if kk != "machine"}
                           for k, v in results.items()}}
    out = artifacts_root() / "benchmarks" / "summary.json"
    out.write_text(json.dumps(summary, indent=2, default=float))
    m = summary["machine"]
    lines = [f"Machine: {m.get('cpu_model', m.get('processor'))}, {m.get('cpus')} CPUs, "
             f"{m.get('memory_gib', '?')} GiB; mode {summary['mode']}", "",
             "| benchmark | seconds | headline |", "|---|---|---|"]
    for r in ran:
        name = r["script"].removeprefix("bench_").removesuffix(".py")
        mine = {k: v for k, v in results.items() if k == name or k.startswith(name + "_")}
        if r["exit"]:
            lines.append(f"| {name} | {r['seconds']:.0f} | FAILED (exit {r['exit']}) |")
            if not mine:
                continue
        for key, res in mine.items() or {name: {}}.items():
            head = ", ".join(f"{k}={fmt(v)}" for k, v in headline(res).items()) or "(no result file)"
            lines.append(f"| {key} | {r['seconds']:.0f} | {head} |")
    table = "\n".join(lines) + "\n"
    (artifacts_root() / "benchmarks" / "summary.md").write_text(table)
    print("\n" + table)
    print(f"wrote {out} and summary.md")
    if failures:
        print(f"failed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
