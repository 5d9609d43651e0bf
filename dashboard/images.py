"""Images as PNG data URIs for the page (thumbnails, the selected image, reconstructions)."""
from __future__ import annotations

import base64
import io
from functools import lru_cache

import numpy as np
from PIL import Image


def png_data_uri(image: np.ndarray) -> str:
    """An H×W×C uint8 image (C 1 or 3) as a ``data:image/png`` URI; the page scales it up."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class ImageCache:
    """PNG URIs of a data set's images, encoded once each (a few hundred bytes apiece)."""

    def __init__(self, images: np.ndarray, maxsize: int = 4096):
        self._images = images
        self._get = lru_cache(maxsize=maxsize)(self._encode)

    def _encode(self, serial: int) -> str:
        return png_data_uri(self._images[serial])

    def __call__(self, serial: int) -> str:
        return self._get(int(serial))
