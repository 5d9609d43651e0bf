"""Two restarts on the same labels averaged: for each labeled set that align_members.py trained
with two training seeds, the members' test accuracy and that of their averaged q(y|x).

usage: python docs/sweeps/align_2026-12-07/pairs.py OUTDIR
"""
import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np

outdir = Path(sys.argv[1])
y = np.load(outdir / "test_truth.npy").astype(np.int64)
runs = {}
for f in outdir.glob("probs_test_*_seed*_t*.npy"):
    n, seed, t = map(int, re.fullmatch(r"probs_test_[a-z]+(\d+)_seed(\d+)_t(\d+)", f.stem).groups())
    runs.setdefault((n, seed), {})[t] = np.load(f)
changes = []
for (n, seed), members in sorted(runs.items()):
    if len(members) < 2:
        continue
    acc = {t: 100 * float((p.argmax(1) == y).mean()) for t, p in members.items()}
    for a, b in itertools.combinations(sorted(members), 2):
        pair = 100 * float(((members[a] + members[b]).argmax(1) == y).mean())
        changes.append(pair - (acc[a] + acc[b]) / 2)
        print(json.dumps({"labels": n, "seed": seed, "members": {t: round(v, 2) for t, v in acc.items()},
                          "pair": round(pair, 2), "change": round(changes[-1], 2)}))
d = np.array(changes)
if d.size:
    print(json.dumps({"pairs": int(d.size), "mean_change": round(float(d.mean()), 2),
                      "se": round(float(d.std(ddof=1) / np.sqrt(d.size)), 2) if d.size > 1 else None}))
