"""Image folders: PNG/JPEG files read with pillow, converted and resized."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

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
    return rel


def class_folders(rel_paths: list[str]) -> list[str] | None:
    """The class names when every image sits in a sub-folder one level down, else None."""
    parts = [p.split("/") for p in rel_paths]
    if all(len(p) == 2 for p in parts):
        return sorted({p[0] for p in parts})
    return None


def read_image_folder(folder: Path, image_size: tuple[int, int], color: bool):
    """Return (N×H×W×C uint8 images, relative paths, class folder names or None)."""
    rel = list_images(folder)
    h, w = image_size
    channels = 3 if color else 1
    out = np.empty((len(rel), h, w, channels), dtype=np.uint8)
    mode = "RGB" if color else "L"
    for i, r in enumerate(rel):
        try:
            with Image.open(folder / r) as img:
                img = img.convert(mode)
                if img.size != (w, h):
                    img = img.resize((w, h), Image.Resampling.BILINEAR)
                arr = np.asarray(img, dtype=np.uint8)
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise DataError(f"{folder / r}: cannot be read as an image ({exc}).") from None
        out[i] = arr.reshape(h, w, channels)
    return out, rel, class_folders(rel)
