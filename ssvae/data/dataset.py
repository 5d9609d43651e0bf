"""The in-memory data set every part of the program shares."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssvae.errors import DataError


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images to label, with a stable ``Serial`` per image (its row index).

    ``images`` is always N×H×W×C uint8 (C is 1 for grayscale). ``truth`` holds ground-truth
    class indices where the source has them; it is evaluation information only and is never
    shown or saved as a user label. ``test_images``/``test_truth`` form an optional held-out
    split that is never offered for labeling.
    """

    name: str
    images: np.ndarray
    class_names: tuple[str, ...]
    source: str
    truth: np.ndarray | None = None
    test_images: np.ndarray | None = None
    test_truth: np.ndarray | None = None
    paths: tuple[str, ...] | None = None  # relative file paths, for folder sources
    root: Path | None = None  # folder the paths are relative to
    labels_dir: Path | None = None  # where labels.csv lives by default
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError("Dataset.images must be an N×H×W×C uint8 array")
        if 0 in self.images.shape[1:]:
            raise DataError(f"{self.source}: the images are {self.images.shape[1]}×"
                            f"{self.images.shape[2]} pixels; there is nothing to show or learn.")
        check_class_names(self.class_names, self.source)

    @property
    def size(self) -> int:
        return int(self.images.shape[0])

    def __len__(self) -> int:
        return self.size

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def has_truth(self) -> bool:
        return self.truth is not None

    @property
    def has_test(self) -> bool:
        return self.test_images is not None and self.test_truth is not None

    @property
    def default_labels_path(self) -> Path:
        assert self.labels_dir is not None
        return self.labels_dir / "labels.csv"

    def class_counts(self, which: np.ndarray | None = None) -> np.ndarray:
        """Counts per class of ``which`` (default: the ground truth), length ``num_classes``."""
        which = self.truth if which is None else which
        if which is None:
            return np.zeros(self.num_classes, dtype=np.int64)
        return np.bincount(np.asarray(which, dtype=np.int64), minlength=self.num_classes)


def class_name_problem(names) -> str | None:
    """Why ``names`` cannot be written to labels.csv and read back as the same classes, or
    None. A name must be non-empty text without white space at either end (the reader strips
    it) and without control characters, and no two names may be equal."""
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            return f"class name {name!r} is not text"
        shown = _shorten(name)
        if not name.strip():
            return "a class name is empty"
        if name != name.strip():
            return f"class name {shown} starts or ends with white space"
        if any(unicodedata.category(ch) == "Cc" for ch in name):
            return f"class name {shown} holds a control character"
        if name in seen:
            return f"class name {shown} appears twice"
        seen.add(name)
    return None


def check_class_names(names, where: str) -> None:
    """Raise :class:`DataError` naming ``where`` if :func:`class_name_problem` finds one."""
    problem = class_name_problem(names)
    if problem:
        raise DataError(f"{where}: {problem}; each class needs its own non-empty name, "
                        "without spaces at either end.")


def _shorten(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
