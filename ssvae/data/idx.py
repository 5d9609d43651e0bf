"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzipped)."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ssvae.errors import DataError

_UBYTE = 0x08


def read_idx(path: Path, expected_dims: int) -> np.ndarray:
    """Read an unsigned-byte IDX file with ``expected_dims`` dimensions.

    Every inconsistency (bad magic number, wrong dimension count, short or over-long data)
    raises :class:`DataError` naming the file.
    """
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot be read as a gzip file ({exc}).") from None
    if len(raw) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(raw)} bytes).")
    zero, dtype, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype != _UBYTE or ndim != expected_dims:
        raise DataError(
            f"{path}: wrong magic number 0x{raw[:4].hex()} "
            f"(expected 0x000008{expected_dims:02x}, unsigned bytes with {expected_dims} dimensions)."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header.")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims)) if dims else 0
    body = len(raw) - header
    if body != expected:
        raise DataError(
            f"{path}: holds {body} data bytes but its header {tuple(dims)} promises {expected}"
            f" ({'truncated' if body < expected else 'trailing bytes'})."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_idx(folder: Path, split: str, kind: str) -> Path | None:
    """Find ``{split}-{kind}-idx?-ubyte`` (also with ``.`` before idx, and ``.gz``) in folder."""
    ndim = 3 if kind == "images" else 1
    for stem in (f"{split}-{kind}-idx{ndim}-ubyte", f"{split}-{kind}.idx{ndim}-ubyte"):
        for suffix in ("", ".gz"):
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def read_idx_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read images and labels of one split (``train`` or ``t10k``) and check they agree."""
    img_path = find_idx(folder, split, "images")
    lab_path = find_idx(folder, split, "labels")
    missing = [n for n, p in ((f"{split}-images-idx3-ubyte[.gz]", img_path),
                              (f"{split}-labels-idx1-ubyte[.gz]", lab_path)) if p is None]
    if missing:
        raise DataError(f"{folder}: missing {' and '.join(missing)}.")
    images = read_idx(img_path, 3)
    labels = read_idx(lab_path, 1)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{lab_path}: holds {labels.shape[0]} labels but {img_path.name} holds "
            f"{images.shape[0]} images."
        )
    return images, labels


def idx_files_present(folder: Path) -> int:
    """How many of the four standard IDX files (train/t10k images/labels) are in folder."""
    return sum(find_idx(folder, s, k) is not None
               for s in ("train", "t10k") for k in ("images", "labels"))
