"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzipped)."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ssvae.data.limits import check_bytes
from ssvae.errors import DataError

_UBYTE = 0x08


def read_idx(path: Path, expected_dims: int) -> np.ndarray:
    """Read an unsigned-byte IDX file with ``expected_dims`` dimensions.

    Every inconsistency (bad magic number, wrong dimension count, short or over-long data)
    raises :class:`DataError` naming the file. The header is read first and the size it
    declares checked against the memory a data set may use, so a crafted (or gzip-bombed)
    file is refused before its data is read.
    """
    try:
        with path.open("rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gz else path.open("rb")) as fh:
            head = fh.read(4)
            if len(head) < 4:
                raise DataError(f"{path}: too short to be an IDX file ({len(head)} bytes).")
            zero, dtype, ndim = int.from_bytes(head[:2], "big"), head[2], head[3]
            if zero != 0 or dtype != _UBYTE or ndim != expected_dims:
                raise DataError(
                    f"{path}: wrong magic number 0x{head.hex()} (expected "
                    f"0x000008{expected_dims:02x}, unsigned bytes with {expected_dims} dimensions).")
            raw_dims = fh.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{path}: truncated header.")
            dims = [int.from_bytes(raw_dims[4 * i: 4 * i + 4], "big") for i in range(ndim)]
            expected = int(np.prod(dims, dtype=object)) if dims else 0
            check_bytes(expected, str(path), f"the {'×'.join(map(str, dims))} bytes its header declares")
            data = fh.read(expected)
            trailing = len(fh.read(1))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot be read as a gzip file ({exc}).") from None
    if len(data) != expected or trailing:
        raise DataError(
            f"{path}: holds {len(data)}{'+' if trailing else ''} data bytes but its header "
            f"{tuple(dims)} promises {expected} ({'truncated' if len(data) < expected else 'trailing bytes'})."
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


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
