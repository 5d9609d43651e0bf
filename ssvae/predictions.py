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
from ssvae.embedding import cached_image_map, image_features, image_map, side_by_side
from ssvae.errors import CheckpointError

#: ``meta["stage"]`` of a map-only snapshot: the 2-D map of the images, before any model
STAGE_IMAGES = "images"


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
    embedding float32 N×E or None: the representation the query strategy clusters and the map
            is drawn from (principal components of the classifier's hidden features; of the
            pixels in a map-only snapshot); :attr:`representation` falls back to ``latent``
    image_embedding float32 N×E or None: the images' own principal components, which the
            typical phase clusters instead of ``embedding`` or beside it
            (``query.typical_on`` ``images`` or ``both``, :attr:`typical_features`; None with
            ``model``)
    mixture_weights float32 K or None: the mixture prior's weights π (None for the normal prior)
    component int16 N or None: each image's most likely mixture component,
            argmax_c π_c·exp(−KL(q(z|x) ‖ p(z|c))) (None for the normal prior)
    trained_labels int32 N or None: the class of each image the model was trained on, −1 for
            none (None in a map-only snapshot and in files from before 2026-12-04): what
            :func:`check_new_labels` scores the labels given since against
    pending_map float32 N×F or None: the features a map is still to be drawn from (predictions
            made with ``map_kind="later"``: :func:`ssvae.predict.draw_map`); held in memory,
            never saved

    A *map-only* snapshot (:meth:`map_only`, ``meta["stage"] == "images"``) comes before any
    model: probs of shape N×0, no scores, no reconstructions (recon of length 0).
    """

    latent: np.ndarray
    map2d: np.ndarray
    probs: np.ndarray
    recon: np.ndarray
    scores: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    embedding: np.ndarray | None = None
    image_embedding: np.ndarray | None = None
    mixture_weights: np.ndarray | None = None
    component: np.ndarray | None = None
    trained_labels: np.ndarray | None = None
    pending_map: np.ndarray | None = None

    @property
    def has_mixture(self) -> bool:
        """Whether the snapshot carries mixture-prior diagnostics (π and each image's component)."""
        return (self.mixture_weights is not None and self.component is not None
                and self.component.shape == (self.size,))

    @property
    def num_components(self) -> int:
        return 0 if self.mixture_weights is None else int(self.mixture_weights.shape[0])

    @property
    def representation(self) -> np.ndarray:
        """What similarity between images is measured on: the embedding, else the latent."""
        return self.embedding if self.embedding is not None else self.latent

    @property
    def typical_features(self) -> np.ndarray | None:
        """What the typical phase clusters instead of :attr:`representation`, None for that:
        the images' principal components (``query.typical_on: images``), or those beside the
        model's embedding with the same weight (``both``, ``meta["typical_on"]``)."""
        if self.image_embedding is None:
            return None
        if self.meta.get("typical_on") == "both" and self.embedding is not None:
            return side_by_side(self.embedding, self.image_embedding)
        return self.image_embedding

    @property
    def size(self) -> int:
        return int(self.probs.shape[0])

    @classmethod
    def map_only(cls, map2d: np.ndarray, latent: np.ndarray | None = None,
                 meta: dict[str, Any] | None = None,
                 embedding: np.ndarray | None = None) -> "Predictions":
        """The 2-D map of the images before any model exists (no classes, scores or recon)."""
        map2d = np.asarray(map2d, dtype=np.float32)
        n = len(map2d)
        latent = np.zeros((n, 0), np.float32) if latent is None else np.asarray(latent, np.float32)
        return cls(latent=latent, map2d=map2d, probs=np.zeros((n, 0), np.float32),
                   recon=np.zeros((0,), np.uint8), scores={},
                   meta={"epoch": None, "num_labels": 0, **(meta or {}), "stage": STAGE_IMAGES},
                   embedding=None if embedding is None else np.asarray(embedding, np.float32))

    @property
    def has_model(self) -> bool:
        """False for a map-only snapshot: no class probabilities, scores or reconstructions."""
        return self.meta.get("stage") != STAGE_IMAGES and self.probs.ndim == 2 and self.probs.shape[1] > 0

    @property
    def classifier_trained(self) -> bool:
        """Whether the class probabilities come from a classifier trained on labels
        (``meta["num_labels"] > 0``; a snapshot that does not record it counts as trained)."""
        n = self.meta.get("num_labels")
        return self.has_model and (not isinstance(n, (int, float)) or n > 0)

    @property
    def has_recon(self) -> bool:
        return self.has_model and self.recon.shape[:1] == (self.size,)

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
        if self.embedding is not None:
            arrays["embedding"] = self.embedding
        if self.image_embedding is not None:
            arrays["image_embedding"] = self.image_embedding
        if self.mixture_weights is not None and self.component is not None:
            arrays["mixture_weights"] = np.asarray(self.mixture_weights, np.float32)
            arrays["component"] = np.asarray(self.component, np.int16)
        if self.trained_labels is not None:
            arrays["trained_labels"] = np.asarray(self.trained_labels, np.int32)
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
        weights, component = arrays.get("mixture_weights"), arrays.get("component")
        if (weights is None) != (component is None):
            raise CheckpointError(f"{path}: predictions snapshot has only one of mixture_weights "
                                  "and component.")
        if weights is not None:
            k = weights.shape[0] if weights.ndim == 1 else 0
            if (k == 0 or component.ndim != 1 or not np.issubdtype(component.dtype, np.integer)
                    or (component.size and (component.min() < 0 or component.max() >= k))):
                raise CheckpointError(f"{path}: predictions snapshot's mixture components do "
                                      f"not match its {k} mixture weights.")
        trained = arrays.get("trained_labels")
        if trained is not None and (trained.ndim != 1 or not np.issubdtype(trained.dtype, np.integer)):
            raise CheckpointError(f"{path}: predictions snapshot's trained_labels are not one "
                                  "class index per image.")
        try:
            return cls(
                latent=arrays["latent"], map2d=arrays["map2d"], probs=arrays["probs"],
                recon=arrays["recon"],
                scores={k[6:]: v for k, v in arrays.items() if k.startswith("score_")},
                meta=json.loads(str(arrays["meta"])),
                embedding=arrays.get("embedding"),
                image_embedding=arrays.get("image_embedding"),
                mixture_weights=arrays.get("mixture_weights"),
                component=arrays.get("component"),
                trained_labels=trained,
            )
        except KeyError as exc:
            raise CheckpointError(f"{path}: predictions snapshot lacks {exc}.") from None

    def fits(self, num_items: int, num_classes: int) -> bool:
        if self.map2d.shape != (num_items, 2):
            return False
        if not self.has_model:
            return self.probs.shape[0] == num_items
        if self.component is not None and self.component.shape != (num_items,):
            return False
        if self.trained_labels is not None and self.trained_labels.shape != (num_items,):
            return False
        return self.probs.shape == (num_items, num_classes)


def check_new_labels(previous: Predictions | None, labels: np.ndarray) -> dict[str, int] | None:
    """How the model behind ``previous`` did on the labels given since it was trained: of the
    images it had no label for that ``labels`` (int array, −1 for none) labels now, how many it
    predicted right — ``{"right": r, "checked": n}``, a held-out accuracy estimate that needs no
    test set. None when there is nothing to check: no earlier model trained on labels, one
    that does not record its labels, or no new label."""
    if (previous is None or not previous.classifier_trained or previous.trained_labels is None
            or previous.trained_labels.shape != labels.shape):
        return None
    new = (previous.trained_labels < 0) & (labels >= 0)
    if not new.any():
        return None
    return {"right": int((previous.pred[new] == labels[new]).sum()), "checked": int(new.sum())}


def collapse_warning(probs: np.ndarray, labels, class_names) -> str | None:
    """One sentence when a model has collapsed: its labeled images span several classes but it
    predicts one class for all of them (a learning rate too large, say); else None."""
    labels = dict(labels)
    if len({int(c) for c in labels.values()}) < 2:
        return None
    serials = np.fromiter(labels, dtype=np.int64, count=len(labels))
    predicted = np.asarray(probs)[serials].argmax(axis=1)
    if np.unique(predicted).size > 1:
        return None
    share = float((np.asarray(probs).argmax(axis=1) == predicted[0]).mean())
    name = class_names[int(predicted[0])]
    return (f"the model has collapsed: it predicts '{name}' for every labeled image and "
            f"{share:.0%} of all images, although the labels span "
            f"{len(set(labels.values()))} classes (try a smaller learning rate).")


def load_trained(path, dataset) -> "Predictions":
    """The predictions of a trained model at ``path`` for ``dataset``; one sentence when the
    file holds only the map of the images or another data set's predictions."""
    preds = Predictions.load(path)
    if not preds.has_model:
        raise CheckpointError(f"{path}: holds only the map of the images, no trained model yet; "
                              "train one first.")
    if not preds.fits(dataset.size, dataset.num_classes):
        raise CheckpointError(f"{path}: predictions are for {preds.probs.shape[0]} images and "
                              f"{preds.probs.shape[1]} classes, but '{dataset.name}' has "
                              f"{dataset.size} and {dataset.num_classes}; train again on this "
                              "data set.")
    return preds


def images_snapshot(images: np.ndarray, seed: int = 0, meta: dict | None = None,
                    cache=None):
    """A map-only :class:`Predictions` of raw images, for before any model exists: the map of
    :func:`ssvae.embedding.image_map` (kept in ``cache``, an .npz path, when given: see
    :func:`ssvae.embedding.cached_image_map`) and, as the embedding the query strategy
    clusters, the pixels' first 32 principal components."""
    images = np.asarray(images)
    emb = image_features(images, dims=32, seed=seed)
    map2d = cached_image_map(images, cache, seed=seed) if cache else image_map(images, seed=seed)
    return Predictions.map_only(map2d, meta={"map": "umap of the images", **(meta or {})},
                                embedding=emb)
