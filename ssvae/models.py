"""The networks of the semi-supervised VAE, as plain Flax linen modules.

* ``Encoder``    q(z|x): dense or convolutional, for any H×W×C input; returns mean, log-variance.
* ``Classifier`` q(y|x): reads the image (a dense or conv trunk: the encoder's kind for
  ``classifier_input="image"``, or named: ``"dense"``/``"conv"``, or ``"conv_pool"``: the conv
  trunk's convolutions at stride 1, each with a 2×2 max-pool) or the latent code; dropout
  only before the last layer, so Monte-Carlo dropout for BALD re-runs just that layer. An
  image classifier reads the pixels or, for colour images by default, each image's
  standardised luminance (``classifier_view``, :func:`shape_view`).
* ``Decoder``    p(x|z) or p(x|z,y) (the M2 form): returns pixel *logits* (the sigmoid is
  applied only by the loss or for display).
* ``SSVAE``      ties them together with the prior: a standard normal, or a mixture of K
  Gaussians with learnable means, log-variances and weights π (logits). When K equals the
  number of classes the components are the classes: p(z|y) = N(μ_y, σ_y²), p(y) = π, and
  the decoder p(x|z,y) is component-aware.

Images enter as floats in [0, 1] (``to_float``); no module knows about data sets or training.
"""
from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


def to_float(images_uint8: jax.Array) -> jax.Array:
    return images_uint8.astype(jnp.float32) / 255.0


def view_for(view: str, image_shape) -> str:
    """``model.classifier_view`` resolved for images of ``image_shape`` (H, W, C): ``auto`` is
    the shape view for colour images and the pixels for grey ones."""
    if view != "auto":
        return view
    return "shape" if int(image_shape[-1]) > 1 else "pixels"


def shape_view(x: jax.Array) -> jax.Array:
    """Each image's luminance (the mean of its channels), standardised to zero mean and unit
    standard deviation over the image: what is left is where the image is light or dark
    relative to itself. On the glyphs (letters in random colours) a classifier trained on this
    reaches 66 % from 200 labels where the same one on the pixels reaches 15 % (docs/MODEL.md)."""
    y = x.mean(-1, keepdims=True)
    mean = y.mean((1, 2, 3), keepdims=True)
    sd = y.std((1, 2, 3), keepdims=True)
    return (y - mean) / (sd + 1e-3)


class MLP(nn.Module):
    features: Sequence[int]

    @nn.compact
    def __call__(self, x):
        for f in self.features:
            x = nn.relu(nn.Dense(f)(x))
        return x


def max_pool_2x2(x: jax.Array) -> jax.Array:
    """2×2 max-pool of non-negative NHWC maps, an odd side padded with zeros (as ``nn.max_pool``
    with SAME padding, for ReLU outputs). A reshape and a max: on the CPU its gradient costs a
    fraction of ``nn.max_pool``'s (docs/MODEL.md)."""
    n, h, w, c = x.shape
    x = jnp.pad(x, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)))
    return x.reshape(n, (h + 1) // 2, 2, (w + 1) // 2, 2, c).max(axis=(2, 4))


class ConvTrunk(nn.Module):
    """3×3 convolutions that each halve the image, then flatten: with stride 2, or
    (``pool``) with stride 1 and a 2×2 max-pool after each."""

    features: Sequence[int]
    pool: bool = False

    @nn.compact
    def __call__(self, x):
        stride = 1 if self.pool else 2
        for f in self.features:
            x = nn.relu(nn.Conv(f, (3, 3), strides=(stride, stride), padding="SAME")(x))
            if self.pool:
                x = max_pool_2x2(x)
        return x.reshape(x.shape[0], -1)


CONV_KINDS = ("conv", "conv_pool")


def _trunk(kind: str, hidden: Sequence[int], conv_features: Sequence[int]):
    if kind in CONV_KINDS:
        trunk = ConvTrunk(tuple(conv_features), pool=kind == "conv_pool")
        return nn.Sequential([trunk, MLP(tuple(hidden[-1:]))])
    return MLP(tuple(hidden))


class Encoder(nn.Module):
    kind: str
    hidden: Sequence[int]
    conv_features: Sequence[int]
    latent_dim: int

    @nn.compact
    def __call__(self, x):
        if self.kind != "conv":
            x = x.reshape(x.shape[0], -1)
        h = _trunk(self.kind, self.hidden, self.conv_features)(x)
        return nn.Dense(self.latent_dim, name="mean")(h), nn.Dense(self.latent_dim, name="logvar")(h)


class Decoder(nn.Module):
    kind: str
    hidden: Sequence[int]  # as the encoder's; used reversed
    conv_features: Sequence[int]
    image_shape: tuple[int, int, int]

    @nn.compact
    def __call__(self, z, y=None):
        h = z if y is None else jnp.concatenate([z, y.astype(z.dtype)], axis=-1)
        H, W, C = self.image_shape
        if self.kind != "conv":
            h = MLP(tuple(reversed(tuple(self.hidden))))(h)
            return nn.Dense(H * W * C)(h).reshape(h.shape[0], H, W, C)
        n = len(self.conv_features)
        h0, w0 = math.ceil(H / 2 ** n), math.ceil(W / 2 ** n)
        h = MLP(tuple(self.hidden[-1:]))(h)
        h = nn.relu(nn.Dense(h0 * w0 * self.conv_features[-1])(h))
        h = h.reshape(h.shape[0], h0, w0, self.conv_features[-1])
        for i in reversed(range(n)):
            out = self.conv_features[i - 1] if i > 0 else C
            h = nn.ConvTranspose(out, (3, 3), strides=(2, 2), padding="SAME")(h)
            if i > 0:
                h = nn.relu(h)
        return h[:, :H, :W, :]


class Classifier(nn.Module):
    """q(y|x) logits. ``features`` is everything up to the last hidden layer; ``head`` applies
    dropout and the output layer, so MC dropout only has to repeat ``head``."""

    kind: str  # "dense" | "conv" | "conv_pool" (image input) | "latent"
    hidden: Sequence[int]
    conv_features: Sequence[int]
    num_classes: int
    dropout: float

    def setup(self):
        self.trunk = _trunk(self.kind, self.hidden, self.conv_features)
        self.drop = nn.Dropout(self.dropout)
        self.out = nn.Dense(self.num_classes)

    def features(self, x):
        if self.kind not in CONV_KINDS:
            x = x.reshape(x.shape[0], -1)
        return self.trunk(x)

    def head(self, h, deterministic: bool = True):
        return self.out(self.drop(h, deterministic=deterministic))

    def head_masked(self, h, mask):
        """The output layer under a given dropout mask (already scaled by 1/keep)."""
        return self.out(h * mask)

    def __call__(self, x, deterministic: bool = True):
        return self.head(self.features(x), deterministic)


class SSVAE(nn.Module):
    image_shape: tuple[int, int, int]
    num_classes: int
    encoder_kind: str = "dense"
    latent_dim: int = 16
    hidden: Sequence[int] = (512, 256)
    conv_features: Sequence[int] = (32, 64)
    classifier_input: str = "image"
    classifier_view: str = "pixels"  # "pixels" or "shape" (:func:`shape_view`)
    classifier_hidden: Sequence[int] = (512, 256)
    classifier_dropout: float = 0.2
    decoder_uses_y: bool = True
    prior: str = "normal"
    components: int = 0  # mixture K (0 for the normal prior)

    @classmethod
    def from_config(cls, m, image_shape, num_classes: int) -> "SSVAE":
        """Build from a :class:`ssvae.config.ModelConfig`."""
        k = 0 if m.prior == "normal" else int(m.components or num_classes)
        return cls(image_shape=tuple(int(s) for s in image_shape), num_classes=int(num_classes),
                   encoder_kind=m.encoder, latent_dim=m.latent_dim, hidden=tuple(m.hidden),
                   conv_features=tuple(m.conv_features), classifier_input=m.classifier,
                   classifier_view=view_for(m.classifier_view, image_shape),
                   classifier_hidden=tuple(m.classifier_hidden),
                   classifier_dropout=float(m.classifier_dropout),
                   decoder_uses_y=bool(m.decoder_uses_y), prior=m.prior, components=k)

    @property
    def tied_mixture(self) -> bool:
        """Mixture components are the classes: p(z|y) = N(μ_y, σ_y²), p(y) = π."""
        return self.prior == "mixture" and self.components == self.num_classes

    def setup(self):
        self.encoder = Encoder(self.encoder_kind, tuple(self.hidden), tuple(self.conv_features),
                               self.latent_dim)
        cls_kind = {"image": self.encoder_kind}.get(self.classifier_input, self.classifier_input)
        self.classifier = Classifier(cls_kind, tuple(self.classifier_hidden),
                                     tuple(self.conv_features), self.num_classes,
                                     self.classifier_dropout)
        self.decoder = Decoder(self.encoder_kind, tuple(self.hidden), tuple(self.conv_features),
                               tuple(self.image_shape))
        if self.prior == "mixture":
            k, d = self.components, self.latent_dim
            self.prior_means = self.param("prior_means", nn.initializers.normal(1.5), (k, d))
            self.prior_logvars = self.param("prior_logvars", nn.initializers.zeros, (k, d))
            self.prior_logits = self.param("prior_logits", nn.initializers.zeros, (k,))

    def encode(self, x):
        return self.encoder(x)

    def classifier_input_of(self, x, z):
        if self.classifier_input == "latent":
            return z
        return shape_view(x) if self.classifier_view == "shape" else x

    def classify(self, x, z, deterministic: bool = True):
        return self.classifier(self.classifier_input_of(x, z), deterministic)

    def classifier_features(self, x, z):
        return self.classifier.features(self.classifier_input_of(x, z))

    def classifier_head(self, h, deterministic: bool = True):
        return self.classifier.head(h, deterministic)

    def classifier_head_masked(self, h, mask):
        return self.classifier.head_masked(h, mask)

    def decode(self, z, y=None):
        """Pixel logits; ``y`` (one-hot or probabilities) is used only by the M2 decoder."""
        if self.decoder_uses_y:
            if y is None:
                y = jnp.full((z.shape[0], self.num_classes), 1.0 / self.num_classes, z.dtype)
            return self.decoder(z, y)
        return self.decoder(z)

    def prior_params(self):
        """(means K×D, logvars K×D, log π K) of the mixture, or None for the normal prior."""
        if self.prior != "mixture":
            return None
        return self.prior_means, self.prior_logvars, jax.nn.log_softmax(self.prior_logits)

    def __call__(self, x, deterministic: bool = True):
        """Touch every sub-module once (for ``init``): returns logits, recon logits, mean, logvar."""
        mean, logvar = self.encode(x)
        logits = self.classify(x, mean, deterministic)
        recon = self.decode(mean, jax.nn.softmax(logits))
        self.prior_params()
        return logits, recon, mean, logvar
