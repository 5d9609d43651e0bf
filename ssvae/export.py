"""Exports: labels as CSV, JSON Lines or class folders, predictions as CSV or Parquet.

Everything here writes *into* the path the user names and replaces nothing that is not a
plain file of ours to replace (:func:`write_into`):

- a symlink stays a symlink; its target gets the new content;
- a device, a pipe, an open file named through ``/dev/stdout``, ``/dev/fd/N`` or ``/proc``,
  or a file with several hard links is written in place (``/dev/stdout`` works, redirected
  or piped; ``/dev/full`` fails with one sentence and stays a device node);
- a plain file is swapped in atomically, keeping the old file's permissions; a new file gets
  the usual mode from the umask (0644 under umask 022), never 0600;
- a folder, ``''``, a path under a file, a missing folder: one sentence
  (:class:`ExportError`), nothing written.

No JAX; pandas and Pillow are imported only by the functions that need them.
"""
from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ssvae.atomic import through_proc, atomic_write_into
from ssvae.errors import SSVAEError

LABEL_FORMATS = ("csv", "jsonl", "folders")
PREDICTION_FORMATS = ("csv", "parquet")
PARQUET_HINT = "pip install 'ssvae-labeling[parquet]' (or pip install pyarrow)"


class ExportError(SSVAEError):
    """An export cannot be written where the user asked."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _name(path) -> str:
    text = os.fspath(path)
    if not text:
        raise ExportError("no file name given; name the file to write.")
    return text


def _stat(path: str, shown: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise ExportError(f"{shown}: a part of the path is a file, not a folder.") from None
    except OSError as exc:
        raise ExportError(f"{shown}: cannot be reached ({_reason(exc)}).") from None


def check_file_target(path) -> tuple[str, os.stat_result | None]:
    """Where the bytes for ``path`` go (symlinks followed) and what is there now; raises
    :class:`ExportError` for '', a folder, a path under a file or a missing folder."""
    shown = _name(path)
    target = os.path.realpath(shown)  # follows a chain of symlinks, dangling ones too
    if through_proc(shown, target):
        target = os.path.abspath(shown)
        st = _stat(target, shown)
        if st is None:
            raise ExportError(f"{shown}: does not exist.")
    else:
        st = _stat(target, shown)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ExportError(f"{shown}: is a folder; name a file to write.")
    if st is None:
        parent = os.path.dirname(target) or "."
        pst = _stat(parent, shown)
        if pst is None:
            raise ExportError(f"{shown}: folder {parent} does not exist.")
        if not stat.S_ISDIR(pst.st_mode):
            raise ExportError(f"{shown}: {parent} is a file, not a folder.")
    return target, st


def write_into(path, data: bytes) -> Path:
    """Write an export to ``path`` (:func:`atomic_write_into`) after checking the target.

    Returns the path as given. Raises :class:`ExportError` with one sentence on any failure
    ('', a folder, a path under a file, a missing folder, a read-only file, a full disk…); a
    failed write leaves the old content of a plain file whole.
    """
    shown = _name(path)
    target, st = check_file_target(path)
    if st is not None and stat.S_ISREG(st.st_mode) and not os.access(target, os.W_OK):
        raise ExportError(f"{shown}: is read-only; nothing was written.")
    try:
        atomic_write_into(target, data)
    except OSError as exc:
        raise ExportError(f"{shown}: cannot be written ({_reason(exc)}).") from None
    return Path(shown)


def is_stdout(path) -> bool:
    """Whether ``path`` is this process's standard output (``/dev/stdout``, or the file or pipe
    stdout is redirected to): a command then says what it wrote on stderr, not in the export."""
    import sys

    try:
        return os.path.samestat(os.stat(os.fspath(path)), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):  # no such file, or stdout is not a real file
        return False


def write_text_into(path, text: str) -> Path:
    return write_into(path, text.encode("utf-8"))


# -- labels --------------------------------------------------------------------------------
def labels_jsonl(labels: Mapping[int, int], class_names: Sequence[str],
                 paths: Sequence[str] | None = None, skipped: Sequence[int] = ()) -> str:
    """One JSON object a line, by Serial: ``{"Serial": 3, "label": "cat"}`` plus ``"file"``
    (the image's path in its source folder) where the data set has files; an image set aside
    is ``{"Serial": 7, "label": null, "skipped": true}``."""
    lines = []
    skipped = {int(s) for s in skipped}
    for s in sorted(set(labels) | skipped):
        row = ({"Serial": int(s), "label": None, "skipped": True} if s in skipped
               else {"Serial": int(s), "label": str(class_names[labels[s]])})
        if paths is not None:
            row["file"] = str(paths[s])
        lines.append(json.dumps(row, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


def class_folder_names(class_names: Sequence[str]) -> list[str]:
    """A safe, distinct folder name per class: the class name itself where it is one."""
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(class_names):
        clean = "".join("_" if ch in "/\\\x00" or ord(ch) < 32 else ch for ch in str(name)).strip()
        if clean in ("", ".", ".."):
            clean = f"class_{i}"
        base, n = clean, 1
        while clean.casefold() in seen:  # distinct on case-insensitive file systems too
            n += 1
            clean = f"{base}_{n}"
        seen.add(clean.casefold())
        out.append(clean)
    return out


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    arr = np.asarray(image, dtype=np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def export_label_folders(folder, labels: Mapping[int, int], images: np.ndarray,
                         class_names: Sequence[str]) -> Path:
    """One sub-folder per class (every class, empty ones too) holding its labeled images as
    ``<Serial>.png`` (zero-padded), the layout that class-folder readers such as torchvision's
    ImageFolder or Keras' ``image_dataset_from_directory`` expect. ``folder`` must not exist
    or be empty, so an export never mixes with an older one."""
    shown = _name(folder)
    root = os.path.realpath(shown)
    st = _stat(root, shown)
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            raise ExportError(f"{shown}: is a file; the folders export needs a new or empty folder.")
        if os.listdir(root):
            raise ExportError(f"{shown}: the folder is not empty; name a new or empty folder.")
    else:
        parent = os.path.dirname(root) or "."
        pst = _stat(parent, shown)
        if pst is None:
            raise ExportError(f"{shown}: folder {parent} does not exist.")
        if not stat.S_ISDIR(pst.st_mode):
            raise ExportError(f"{shown}: {parent} is a file, not a folder.")
    width = len(str(max(len(images) - 1, 0)))
    names = class_folder_names(class_names)
    try:
        os.makedirs(root, exist_ok=True)
        for name in names:
            os.mkdir(os.path.join(root, name))
        for s in sorted(labels):
            out = os.path.join(root, names[labels[s]], f"{int(s):0{width}d}.png")
            with open(out, "xb") as fh:
                fh.write(png_bytes(images[s]))
    except OSError as exc:
        raise ExportError(f"{shown}: cannot be written ({_reason(exc)}).") from None
    return Path(shown)


def read_label_folders(folder, class_names: Sequence[str]) -> dict[int, int]:
    """The labels a folders export holds (``{Serial: class index}``), to check a round trip."""
    names = class_folder_names(class_names)
    out: dict[int, int] = {}
    for i, name in enumerate(names):
        for png in Path(folder, name).glob("*.png"):
            out[int(png.stem)] = i
    return out


# -- predictions ---------------------------------------------------------------------------
def predictions_frame(preds, class_names: Sequence[str], labels: Mapping[int, int] | None = None,
                      paths: Sequence[str] | None = None, skipped: Sequence[int] = ()):
    """A pandas DataFrame, one row per image by Serial: the file (where the data set has
    files), the user's label (empty where none), whether the user set it aside (``skipped``),
    the predicted class and its probability,
    each class's probability (``prob_<class>``), every uncertainty score of the snapshot
    (higher = less certain) and the map position ``x``, ``y``."""
    import pandas as pd

    if not preds.has_model:
        raise ExportError("there are no predictions to export yet: the model has not been "
                          "trained (only the map of the images exists).")
    n = preds.size
    names = [str(c) for c in class_names]
    if preds.probs.shape != (n, len(names)):
        raise ExportError(f"the predictions are for {preds.probs.shape[1]} classes but the data "
                          f"set has {len(names)}; train again on this data set.")
    pred = preds.pred
    cols: dict[str, object] = {"Serial": np.arange(n, dtype=np.int64)}
    if paths is not None:
        cols["file"] = pd.array([str(p) for p in paths], dtype="string")
    label = np.full(n, None, dtype=object)
    for s, k in (labels or {}).items():
        label[s] = names[k]
    cols["label"] = pd.array(label, dtype="string")
    set_aside = np.zeros(n, dtype=bool)
    set_aside[np.asarray(list(skipped), dtype=np.int64)] = True
    cols["skipped"] = set_aside
    cols["predicted"] = pd.array(np.asarray(names, dtype=object)[pred], dtype="string")
    cols["confidence"] = preds.confidence
    for k, name in enumerate(names):
        cols[f"prob_{name}"] = preds.probs[:, k]
    for name in sorted(preds.scores):
        cols[name] = np.asarray(preds.scores[name])
    map2d = np.asarray(preds.map2d)
    cols["x"], cols["y"] = map2d[:, 0], map2d[:, 1]
    return pd.DataFrame(cols)


def prediction_format(path, fmt: str | None) -> str:
    """The format to write: ``fmt`` if given, else from the file name (.parquet/.pq), else CSV."""
    if fmt is not None:
        if fmt not in PREDICTION_FORMATS:
            raise ExportError(f"format '{fmt}' is not one of: {', '.join(PREDICTION_FORMATS)}.")
        return fmt
    return "parquet" if str(path).lower().endswith((".parquet", ".pq")) else "csv"


def predictions_bytes(frame, fmt: str) -> bytes:
    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    try:
        import pyarrow  # noqa: F401  (pandas' Parquet engine)
    except ImportError:
        raise ExportError(f"writing Parquet needs pyarrow, which is not installed; "
                          f"{PARQUET_HINT}.") from None
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, engine="pyarrow")
    return buf.getvalue()
