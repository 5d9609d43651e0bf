"""Paired test accuracy of the screens in this folder: each change against the default trained
on the very same labels with the same training seed (one member each).

usage: python docs/sweeps/labeled_views_2026-12-07/summary.py
"""
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ARMS = [  # (what, reference folder, changed folder)
    ("mixup, Beta(1, 1); Fashion, the loop's 100 labels", "ref", "a1"),
    ("intensity 0.3; Fashion, the loop's 100 labels", "ref", "int03"),
    ("intensity 0.3; Fashion, the loop's 200 labels", "f200_ref", "f200_int"),
    ("intensity 0.3; balanced labels, MNIST / digits 100, glyphs 200", "cross_ref", "cross_int"),
]


def read(folder):
    out = {}
    for line in (HERE / folder / "members.jsonl").read_text().splitlines():
        r = json.loads(line)
        n = r.get("labels", r.get("n"))
        out[(r["dataset"], n, r["seed"], r["train_seed"])] = 100 * r["test"]
    return out


for what, ref_dir, new_dir in ARMS:
    ref, new = read(ref_dir), read(new_dir)
    keys = sorted(set(ref) & set(new))
    print(f"\n{what}")
    for ds in sorted({k[0] for k in keys}):
        ks = [k for k in keys if k[0] == ds]
        d = np.array([new[k] - ref[k] for k in ks])
        per = " / ".join(f"{ref[k]:.1f}→{new[k]:.1f}" for k in ks)
        se = f", se {d.std(ddof=1) / np.sqrt(d.size):.2f}" if d.size > 1 else ""
        print(f"  {ds} seeds {[k[2] for k in ks]}: {per}; change {d.mean():+.2f}{se}, "
              f"{int((d > 0).sum())} of {d.size} up")
