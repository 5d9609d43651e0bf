"""Write the glyph image set (see ssvae/data/glyphs.py): data/glyphs/train/<letter>/*.png
and data/glyphs/README.md (fonts, packages, licences).

    python scripts/make_glyphs.py [--out data/glyphs] [--seed 0] [--per-class 200]
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ssvae.data.glyphs import PER_CLASS, SEED, make_glyphs  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "data" / "glyphs"))
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--per-class", type=int, default=PER_CLASS)
    args = p.parse_args()
    out = Path(args.out)
    if (out / "train").exists():
        shutil.rmtree(out / "train")
    train = make_glyphs(out, seed=args.seed, per_class=args.per_class)
    print(f"wrote {sum(1 for _ in train.rglob('*.png'))} images under {train} and {out / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
