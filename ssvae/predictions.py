"""A model's predictions over a whole data set: what the dashboard and the ranking read.

Plain numpy, no JAX: the web process loads these snapshots that the training worker writes.
"""
from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ssvae.atomic import atomic_write_bytes
from ssvae.errors import CheckpointError


@dataclass(eq=False)
class Predictions:
    """Per-image outputs of one trained model.

    latent  float32 N×D   mean of q(z|x)
    map2d   float32 N×2   2-D map for display (aligned with the previous map across retrains)
    probs   float32 N×K   class probabilities q(y|x)
    recon   uint8 N×H×W×C reconstructions
    scores  name -> float32 N, higher means less certain ("entropy", "margin",
            "least_confidence", "bald")
    meta    JSON-able facts: epoch, step, labels_fingerprint, num_labels, test_accuracy, …
    """

    latent: np.ndarray
    map2d: np.ndarray
    probs: np.ndarray
    recon: np.ndarray
    scores: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.probs.shape[0])

    @property
    def pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probs.max(axis=1)

    def save(self, path: str | Path) -> Path:
        """Write an uncompressed .npz atomically (a reader never sees half a snapshot)."""
        arrays = {"latent": self.latent, "map2d": self.map2d, "probs": self.probs,
                  "recon": self.recon,
                  "meta": np.array(json.dumps({"created": time.time(), **self.meta}))}
        arrays.update({f"score_{k}": v for k, v in self.scores.items()})
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "Predictions":
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise CheckpointError(f"{path}: predictions snapshot not found.") from None
        except Exception as exc:  # a corrupt or foreign file
            raise CheckpointError(f"{path}: not a readable predictions snapshot ({exc}).") from None
        try:
            return cls(
                latent=arrays["latent"], map2d=arrays["map2d"], probs=arrays["probs"],
                recon=arrays["recon"],
                scores={k[6:]: v for k, v in arrays.items() if k.startswith("score_")},
                meta=json.loads(str(arrays["meta"])),
            )
        except KeyError as exc:
            raise CheckpointError(f"{path}: predictions snapshot lacks {exc}.") from None

    def fits(self, num_items: int, num_classes: int) -> bool:
        return self.probs.shape == (num_items, num_classes)
