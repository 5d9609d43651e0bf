"""Stress: a page process and a CLI-import process write one labels.csv at once, and are
SIGKILLed at random moments; no acknowledged label may be lost.

The page process dispatches Label commands through the app's dispatcher (labels.csv and the
command log, as the page does), the CLI process imports small labels.csv files through
``LabelStore.merge_file`` (what ``ssvae labels import`` does). Each prints a Serial once its
call has returned (acknowledged). Every so often one of them is killed and started again where
it left off. At the end every acknowledged label must be in labels.csv with its class, the
command log must read back with unique increasing ``seq``, and labels.csv must parse.

Usage: python benchmarks/stress_two_writers.py [--labels 500] [--kills 50] [--seed 0]
Writes artifacts/benchmarks/stress_two_writers.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

N = 10_000  # images; the page writes the even Serials, the CLI the odd ones

PAGE = r"""
import sys
N = 10_000
from dash_fixtures import synthetic_dataset
from dashboard.app import open_state
from dashboard.commands import Label
root, labels, ws, start, stop = sys.argv[1:6]
ds = synthetic_dataset(n=N, root=root)
state, disp = open_state(ds, labels, ws)
for s in range(int(start), int(stop), 2):          # even Serials
    res = disp.dispatch(Label(s, s % 10), session="stress")
    if not res.ok:
        sys.exit(f"refused: {res.message}")
    print(s, flush=True)
"""

CLI = r"""
import sys, pathlib, time
N = 10_000
from ssvae.labels import LabelStore
labels, tmp, start, stop = sys.argv[1:5]
store = LabelStore(labels, N, tuple("0123456789"))
src = pathlib.Path(tmp) / f"import-{start}.csv"
for s in range(int(start), int(stop), 10):        # odd Serials, five per import
    chunk = [x for x in range(s, min(s + 10, int(stop))) if x % 2]
    src.write_text("Serial,label\n" + "".join(f"{x},{x % 10}\n" for x in chunk))
    store.merge_file(src)
    for x in chunk:
        print(x, flush=True)
    time.sleep(0.05)  # a person importing now and then, not a tight loop
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=int, default=500, help="labels each writer acknowledges at least")
    ap.add_argument("--kills", type=int, default=50, help="SIGKILLs at least, of either writer")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from dash_fixtures import synthetic_dataset
    from ssvae.labels import read_labels

    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="ssvae-stress-"))
    root, labels, ws = tmp / "data", tmp / "labels.csv", tmp / "ws"
    ds = synthetic_dataset(n=N, root=root)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    acked = {"page": set(), "cli": set()}
    nxt = {"page": 0, "cli": 1}
    kills = {"page": 0, "cli": 0}

    def spawn(who):
        if who == "page":
            cmd = [sys.executable, "-c", PAGE, str(root), str(labels), str(ws), str(nxt[who]), str(N)]
        else:
            cmd = [sys.executable, "-c", CLI, str(labels), str(tmp), str(nxt[who]), str(N)]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)

    def collect(who, proc):
        out, _ = proc.communicate()
        got = [int(x) for x in out.split()]
        acked[who].update(got)
        if got:
            step = 2 if who == "page" else 10
            last = max(got)
            nxt[who] = last + 2 if who == "page" else (last - last % 10) + step + 1
        return proc.returncode

    t0 = time.time()
    failures = []
    while sum(kills.values()) < args.kills or min(len(a) for a in acked.values()) < args.labels:
        procs = {who: spawn(who) for who in ("page", "cli")}
        time.sleep(rng.uniform(0.3, 1.5))
        victim = rng.choice(["page", "cli"])
        procs[victim].send_signal(signal.SIGKILL)
        kills[victim] += 1
        time.sleep(rng.uniform(0.0, 0.3))
        other = "cli" if victim == "page" else "page"
        procs[other].send_signal(signal.SIGKILL)  # the other one too, at another moment
        kills[other] += 1
        for who, proc in procs.items():
            collect(who, proc)
        on_disk = read_labels(labels, ds.size, ds.class_names)  # must parse, whole
        lost = {s for a in acked.values() for s in a if on_disk.get(s) != s % 10}
        if lost:
            failures.append(sorted(lost)[:10])
            break
    entries = [json.loads(line) for line in (ws / "commands.jsonl").read_text().splitlines()
               if line.strip().endswith("}")]
    seqs = [e["seq"] for e in entries if isinstance(e, dict) and isinstance(e.get("seq"), int)]
    result = {
        "acknowledged_page": len(acked["page"]), "acknowledged_cli": len(acked["cli"]),
        "kills_page": kills["page"], "kills_cli": kills["cli"],
        "lost": failures[0] if failures else [],
        "log_entries": len(seqs), "log_seq_unique_increasing": seqs == sorted(set(seqs)),
        "seconds": round(time.time() - t0, 1),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "artifacts" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "stress_two_writers.json").write_text(json.dumps(result, indent=2))
    return 1 if failures or not result["log_seq_unique_increasing"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
