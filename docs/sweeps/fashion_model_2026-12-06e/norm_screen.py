"""Normalisation screen (2026-12-06): the default trained once on class-balanced labels
(scripts/model_sweep.py model), with a normalisation layer after each of the classifier's
convolutions (before the ReLU).

* ``group G``: GroupNorm with G groups (G = 1 is a LayerNorm over each image's feature map).
* ``layer 0``: LayerNorm over the channels at each position.

usage: python docs/sweeps/fashion_model_2026-12-06e/norm_screen.py {group G | layer 0} -- MODEL_SWEEP_ARGS...
Patches :func:`ssvae.models._trunk` in this process only (nothing in the product changes).
"""
import sys
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import flax.linen as nn  # noqa: E402

import model_sweep  # noqa: E402
from ssvae import models  # noqa: E402

kind, value = sys.argv[1], int(sys.argv[2])
sys.argv = [sys.argv[0]] + sys.argv[4:]


class NormConvTrunk(nn.Module):
    features: Sequence[int]

    @nn.compact
    def __call__(self, x):
        for f in self.features:
            x = nn.Conv(f, (3, 3), strides=(2, 2), padding="SAME")(x)
            x = nn.GroupNorm(num_groups=value)(x) if kind == "group" else nn.LayerNorm()(x)
            x = nn.relu(x)
        return x.reshape(x.shape[0], -1)


_orig = models._trunk


def _trunk(k, hidden, conv_features):
    if k == "conv":
        return nn.Sequential([NormConvTrunk(tuple(conv_features)), models.MLP(tuple(hidden[-1:]))])
    return _orig(k, hidden, conv_features)


if kind not in ("group", "layer"):
    raise SystemExit(f"unknown change {kind!r}")
models._trunk = _trunk
model_sweep.main()
