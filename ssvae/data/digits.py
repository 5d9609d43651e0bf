"""A second image set of a different kind, assembled offline: scikit-learn's bundled copy of
the UCI "Optical Recognition of Handwritten Digits" test set (1 797 digits, 8×8 pixels, 17 grey
levels; ``sklearn.datasets.load_digits``, read from the installed package, nothing downloaded),
written as a ``folder:`` tree of PNG files, one sub-folder per digit.

Unlike the bundled MNIST it is tiny, 8×8 and coarsely quantised: loaded with the default
``data.image_size`` it is upscaled to 28×28, as a user's own small class-folder set would be.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

README = """# Digits: scikit-learn's 8×8 handwritten digits as a class-folder tree

Written by `ssvae.data.digits.make_digits` (`ssvae evaluate` builds it when it is missing).
Use it as `--dataset folder:data/digits/train` (the default `data.image_size` upscales it to 28×28).

- 10 classes (0–9), 1 797 images, 8×8 grayscale PNG, the 17 grey levels 0–16 scaled to 0–255
- source: `sklearn.datasets.load_digits()`, the copy of the UCI ML "Optical Recognition of
  Handwritten Digits" data set (test part, 1 797 digits by 13 writers; E. Alpaydin, C. Kaynak,
  1998) that scikit-learn installs with itself; licence CC BY 4.0 (UCI), scikit-learn BSD-3-Clause
- no test split of its own: the evaluation holds out 20 % of each class (`--test-fraction 0.2`, seed 0)
"""


def make_digits(out: Path) -> Path:
    """Write ``out/train/<digit>/<n>.png`` and ``out/README.md``; returns ``out/train``."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    train = Path(out) / "train"
    for i, (img, y) in enumerate(zip(digits.images, digits.target)):
        folder = train / str(int(y))
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.round(img * (255 / 16)).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / f"{i:04d}.png")
    (Path(out) / "README.md").write_text(README)
    return train
