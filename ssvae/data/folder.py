"""Image folders: PNG/JPEG files read with pillow, converted and resized."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from ssvae.data.limits import MAX_SIDE, check_bytes
from ssvae.errors import DataError

EXTENSIONS = {".png", ".jpg", ".jpeg"}


def list_images(folder: Path) -> list[str]:
    """Relative POSIX paths of the images under ``folder``, sorted (this order is Serial)."""
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found.")
    rel = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in EXTENSIONS
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not rel:
        raise DataError(f"{folder}: holds no PNG or JPEG images.")
    for r in rel:  # manifest.csv and labels name files in UTF-8
        try:
            r.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(r).decode("utf-8", "backslashreplace")
            raise DataError(f"{folder}: the file name '{shown}' is not valid UTF-8; rename "
                            "it (or move it out of the folder).") from None
    return rel


def class_folders(rel_paths: list[str]) -> list[str] | None:
    """The class names when every image sits in a sub-folder one level down, else None."""
    parts = [p.split("/") for p in rel_paths]
    if all(len(p) == 2 for p in parts):
        return sorted({p[0] for p in parts})
    return None


def read_image_folder(folder: Path, image_size: tuple[int, int], color: bool):
    """Return (N×H×W×C uint8 images, relative paths, class folder names or None)."""
    h, w = image_size
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise DataError(f"image size {h}×{w}: each side must be 1 to {MAX_SIDE} pixels.")
    rel = list_images(folder)
    channels = 3 if color else 1
    check_bytes(len(rel) * h * w * channels, str(folder), f"{len(rel)} images of {h}×{w}×{channels}")
    out = np.empty((len(rel), h, w, channels), dtype=np.uint8)
    for i, r in enumerate(rel):
        out[i] = read_image(folder / r, (h, w), color)
    return out, rel, class_folders(rel)


def read_image(path: Path, image_size: tuple[int, int], color: bool) -> np.ndarray:
    """One image file as an H×W×C uint8 array (converted and resized). Any file that cannot be
    decoded, and any image over Pillow's decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``),
    raises :class:`DataError` naming the file."""
    h, w = image_size
    mode = "RGB" if color else "L"
    try:
        with warnings.catch_warnings():
            # over MAX_IMAGE_PIXELS Pillow only warns (an error from twice that): refuse both
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img = img.convert(mode)
                if img.size != (w, h):
                    img = img.resize((w, h), Image.Resampling.BILINEAR)
                arr = np.asarray(img, dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = Image.MAX_IMAGE_PIXELS or 0
        raise DataError(f"{path}: the image is too large to decode safely (over "
                        f"{limit / 1e6:,.0f} million pixels, Pillow's decompression-bomb "
                        "limit).") from None
    except MemoryError:
        raise DataError(f"{path}: not enough memory to decode this image.") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's plugins raise many kinds; name the file
        raise DataError(f"{path}: cannot be read as an image ({exc}).") from None
    return arr.reshape(h, w, 3 if color else 1)
