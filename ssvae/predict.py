"""Batched, jitted predictions over a whole data set, and the 2-D map for display.

``predict`` runs the encoder, classifier and decoder over every image in fixed-size
batches (one compile, the last batch padded) and returns a :class:`ssvae.predictions.Predictions`
with the latent mean, the 2-D map, class probabilities, uint8 reconstructions and all
uncertainty scores (entropy, margin, least confidence from the probabilities; BALD from
Monte-Carlo samples: dropout masks on the classifier head, or z samples when the classifier reads
the latent code). A model of several members (``train.members``) predicts the members' average
class probabilities; everything else, the uncertainty scores included, is its first member's.

The map is drawn from the classifier's hidden features, not from z: in M2 the latent z is
the *style* left over once the class is known, so its projection mixes the classes, while the
features from which q(y|x) reads the class lay the classes out. They are reduced to their
principal components (the first 32 are kept as the snapshot's ``embedding``, which the query
strategy clusters) and laid out by UMAP (:mod:`ssvae.embedding`) beside the pixels' own
principal components (10-NN class agreement 0.92 against 0.89 for the features alone at 100
labels on MNIST), started from the previous map and aligned onto it so that a retrain does not
scramble the picture. While no label exists the map of the images is kept.

The map costs more than the rest of a prediction on a large pool (on the 60 000 Fashion-MNIST
images ~22 s quiet, against ~5 s for the forward pass and 15–18 s for a retrain's epoch), so
the worker publishes in two steps: ``map_kind="later"`` keeps the previous map and holds the
features (:attr:`Predictions.pending_map`), and :func:`draw_map` lays them out once the
model's classes and uncertainties are on the page.

For a mixture prior the snapshot also carries the mixture weights π and each image's most
likely component (:func:`mixture_components`), which the page shows as diagnostics.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ssvae import core, losses
from ssvae.models import to_float
from ssvae.predictions import Predictions
from ssvae.ranking import probability_scores


def pca_map(latent: np.ndarray, previous: np.ndarray | None = None, max_fit: int = 5_000,
            seed: int = 0) -> np.ndarray:
    """2-D map: the latent itself if 2-D, else its first two principal components (fitted on
    at most ``max_fit`` images, in float32: 60 000 × 256 features take ~0.13 s), aligned to
    ``previous`` (same images) by the orthogonal map that best matches it."""
    z = np.asarray(latent, dtype=np.float32)
    if z.shape[1] == 2:
        proj = (z - z.mean(0)).astype(np.float64)
    else:
        fit = z
        if z.shape[0] > max_fit:
            fit = z[np.sort(np.random.default_rng(seed).choice(z.shape[0], max_fit, replace=False))]
        mu = fit.mean(0, dtype=np.float64).astype(np.float32)
        _, _, vt = np.linalg.svd((fit - mu).astype(np.float64), full_matrices=False)
        comps = vt[:2].T  # D×2
        comps = comps * np.sign(comps[np.abs(comps).argmax(0), [0, 1]])  # fixed sign convention
        proj = ((z - mu) @ comps.astype(np.float32)).astype(np.float64)
    if previous is not None and previous.shape == proj.shape:
        prev = np.asarray(previous, dtype=np.float64)
        prev = prev - prev.mean(0)
        u, _, vt = np.linalg.svd(proj.T @ prev)
        proj = proj @ (u @ vt)
    return proj.astype(np.float32)


@partial(jax.jit, static_argnames=("model",))
def component_batch(params, images, *, model):
    """Each image's most likely mixture component: argmax_c of the responsibilities
    r(c|x) ∝ π_c·exp(−KL(q(z|x) ‖ p(z|c))) that the objective's mixture bound uses."""
    m = model.bind({"params": params})
    mean, logvar = m.encode(to_float(images))
    p_means, p_logvars, log_pi = m.prior_params()
    _, _, r = losses.mixture_kl(mean, logvar, p_means, p_logvars, log_pi)
    return (jnp.argmax(r, axis=-1).astype(jnp.int16),)


def mixture_components(snapshot: core.Snapshot, images, batch_size: int
                       ) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """(π, component per image) of a mixture-prior model (its first member, whose latent
    space the map shows); (None, None) for the normal prior."""
    model, params = snapshot.model, core.member(snapshot.eval_params, 0)
    if model.prior != "mixture":
        return None, None
    log_pi = jax.nn.log_softmax(params["prior_logits"])
    (component,) = core.batched(lambda x: component_batch(params, x, model=model), images, batch_size)
    return np.exp(np.asarray(log_pi, np.float64)).astype(np.float32), component.astype(np.int16)


EMBEDDING_DIMS = 32  # principal components of the classifier's features kept per image
MAP_KINDS = ("umap", "pca", "later")


def predict(snapshot: core.Snapshot, images, dataset_name: str,
            previous: Predictions | None = None, test_accuracy: float | None = None,
            map_kind: str = "umap", context: np.ndarray | None = None) -> Predictions:
    """Predictions of ``snapshot``'s model over ``images`` (the whole pool, device-resident or
    numpy). The embedding is the first principal components of the classifier's hidden
    features; the map is a UMAP of them started from and aligned to ``previous``'s map (or the
    snapshot's last map), or with ``map_kind="pca"`` their first two components (no UMAP: what
    the simulation uses, which never looks at a map), or with ``map_kind="later"`` that previous
    map as it was and the features kept in ``pending_map`` for :func:`draw_map` (the UMAP at
    once where there is no previous map). The map becomes the snapshot's ``last_map``.
    ``context``: the pixels' principal components (:func:`ssvae.embedding.image_features` of
    ``images``), computed here when not given; with ``query.typical_on`` ``images`` or ``both``
    their first components are also the predictions' ``image_embedding``."""
    from ssvae.embedding import PCA_DIMS, feature_map, image_features, pca_reduce, usable_map

    if map_kind not in MAP_KINDS:
        raise ValueError(f"map_kind must be one of {MAP_KINDS}, got {map_kind!r}")
    t = snapshot.config.train
    model, params = snapshot.model, snapshot.eval_params
    bs = min(t.eval_batch_size, max(16, images.shape[0]))
    latent, probs, first_probs, recon, bald, features = core.batched(
        lambda x, k: core.predict_batch(params, x, k, model=model, mc_samples=t.mc_samples),
        images, bs, jax.random.fold_in(snapshot.key, 0xBA1D))
    weights, component = mixture_components(snapshot, images, bs)
    reduced = pca_reduce(features, PCA_DIMS, seed=t.seed)
    prev_map = usable_map(previous.map2d if previous is not None else snapshot.last_map,
                          reduced.shape[0])
    pending, drawn = None, map_kind
    if map_kind != "pca" and snapshot.num_labels == 0 and prev_map is not None:
        map2d, drawn = prev_map, "kept"  # a classifier with no labels lays out no classes
        # (10-NN agreement 0.46–0.80 against 0.88 for the map of the images): keep it
    elif map_kind == "later" and prev_map is not None:
        map2d, pending = prev_map, reduced
    elif map_kind != "pca":  # the features beside the pixels' principal components
        if context is None:
            context = image_features(np.asarray(images), seed=t.seed)
        map2d, drawn = feature_map(reduced, previous=prev_map, seed=t.seed, context=context), "umap"
    else:
        map2d = pca_map(reduced, prev_map, seed=t.seed)
    snapshot.last_map = map2d
    image_embedding = None
    if snapshot.config.query.needs_image_components:
        if context is None:
            context = image_features(np.asarray(images), seed=t.seed)
        image_embedding = np.ascontiguousarray(context[:, :EMBEDDING_DIMS], dtype=np.float32)
    scores = probability_scores(first_probs)  # the first member's, as its BALD (predict_batch)
    scores["bald"] = bald.astype(np.float32)
    meta = {"epoch": snapshot.epoch, "step": int(snapshot.state.step),
            "labels_fingerprint": snapshot.labels_fingerprint, "num_labels": snapshot.num_labels,
            "start_labels": snapshot.start_labels,
            "dataset": dataset_name, "map": drawn,
            "typical_on": snapshot.config.query.typical_on}
    if test_accuracy is not None:
        meta["test_accuracy"] = float(test_accuracy)
    if weights is not None:
        meta.update(prior="mixture", components=int(weights.shape[0]),
                    tied_mixture=bool(snapshot.model.tied_mixture))
    return Predictions(latent=latent.astype(np.float32), map2d=map2d,
                       probs=probs.astype(np.float32), recon=recon, scores=scores, meta=meta,
                       embedding=np.ascontiguousarray(reduced[:, :EMBEDDING_DIMS]),
                       image_embedding=image_embedding,
                       mixture_weights=weights, component=component, pending_map=pending)


def draw_map(preds: Predictions, images, seed: int = 0,
             context: np.ndarray | None = None) -> Predictions:
    """``preds`` (made with ``map_kind="later"``) with the map of its model: the UMAP of the
    held features beside the pixels' principal components (``context``, computed from
    ``images`` when not given), started from the map it was published with and aligned onto it,
    as ``map_kind="umap"`` draws it in one go. ``preds`` itself when it holds nothing to draw."""
    from dataclasses import replace

    from ssvae.embedding import feature_map, image_features

    if preds.pending_map is None:
        return preds
    if context is None:
        context = image_features(np.asarray(images), seed=seed)
    map2d = feature_map(preds.pending_map, previous=preds.map2d, seed=seed, context=context)
    return replace(preds, map2d=map2d, pending_map=None, meta={**preds.meta, "map": "umap"})
